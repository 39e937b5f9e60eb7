// otafleetctl rollout ...: staged rollouts that otafleetd runs (create, approve, start, pause,
// resume, abort, retry-failed, status, list, watch). The plan options travel as typed; the
// server parses and checks them (rollout::RolloutPlan::fromOptions), so the CLI and the console
// cannot disagree about what a plan means.
#include "Cli.h"
#include "ServerConnection.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QThread>

#include <cstdio>

#include <unistd.h>

namespace otafleet::cli {
namespace {

QCommandLineOption option(const char* name, const char* description, const char* value) {
    return QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(description),
                              QString::fromLatin1(value));
}

const QCommandLineOption kRelease = option("release", "The release to roll out (its id).", "ID");
const QCommandLineOption kTarget =
    option("target",
           "Devices to update, in the filter language of 'fleet devices --filter' "
           "(e.g. 'model=gw-x1 and version<2.0.0', 'tag=pilot'); '' for all.",
           "EXPR");
const QCommandLineOption kWaves = option(
    "waves", "Wave sizes, percent of the remaining targets or counts: 1%,10%,50%,100%.", "LIST");
const QCommandLineOption kSuccessThreshold =
    option("success-threshold", "A wave passes when this share succeeded (default 95%).", "P");
const QCommandLineOption kFailureThreshold =
    option("failure-threshold",
           "Pause when more than this share of a wave's executed devices failed "
           "(default 10%).",
           "P");
const QCommandLineOption kMinExecuted = option(
    "min-executed", "... once at least N devices of the wave have executed (default 5).", "N");
const QCommandLineOption kSoak =
    option("soak", "Wait this long after a wave passes (e.g. 30m; default none).", "DURATION");
const QCommandLineOption kRate = option("rate", "At most N offers per minute (N/min).", "N/min");
const QCommandLineOption kRamp =
    option("ramp", "Multiply the rate by FACTOR each time as many devices succeeded.", "FACTOR");
const QCommandLineOption kDeviceTimeout =
    option("device-timeout", "A device must finish within this (default 1h).", "DURATION");
const QCommandLineOption kRetries =
    option("retries", "Offer again after a failure or timeout, N times per device.", "N");
const QCommandLineOption kWindow =
    option("window",
           "Offer only in this maintenance window, e.g. 'Mon-Fri 02:00-05:00 "
           "Europe/Berlin'.",
           "WINDOW");
const QCommandLineOption kPrecheck = option(
    "precheck", "Checks the device runs before it accepts: battery>=30,free>=2x,health.", "CHECKS");
const QCommandLineOption kProduction(QStringLiteral("production"),
                                     QStringLiteral("A production rollout: needs approval by "
                                                    "someone other than its author."));
const QCommandLineOption kEmergency(QStringLiteral("emergency"),
                                    QStringLiteral("An emergency rollout: skips soak times, never "
                                                   "approval."));
const QCommandLineOption kLateJoiners(QStringLiteral("late-joiners"),
                                      QStringLiteral("Devices that match the target later join "
                                                     "the running rollout."));
const QCommandLineOption kPage(QStringLiteral("page"), QStringLiteral("Page number, from 0."),
                               QStringLiteral("N"), QStringLiteral("0"));
const QCommandLineOption kPageSize(QStringLiteral("page-size"),
                                   QStringLiteral("Rollouts per page (1-1000)."),
                                   QStringLiteral("K"), QStringLiteral("100"));
const QCommandLineOption kInterval(QStringLiteral("interval"),
                                   QStringLiteral("Seconds between refreshes (default 1)."),
                                   QStringLiteral("S"), QStringLiteral("1"));

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

QJsonObject countsJson(const cpb::Rollout& r) {
    QJsonObject counts;
    for (const auto& [state, count] : r.counts())
        counts.insert(qs(state), static_cast<double>(count));
    return counts;
}

// The status contract of `rollout status --json` (rollout::RolloutStatus keys) plus what names
// the rollout.
QJsonObject rolloutJson(const cpb::Rollout& r) {
    QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(r.status_json())).object();
    if (o.isEmpty()) {  // list entries carry no full status
        o.insert(QStringLiteral("state"), qs(r.state()));
        o.insert(QStringLiteral("current_wave"), static_cast<int>(r.current_wave()));
        o.insert(QStringLiteral("counts"), countsJson(r));
        o.insert(QStringLiteral("total"), static_cast<double>(r.total()));
        o.insert(QStringLiteral("pause_reason"), qs(r.pause_reason()));
        o.insert(QStringLiteral("author"), qs(r.author()));
        o.insert(QStringLiteral("approved_by"), qs(r.approved_by()));
    }
    o.insert(QStringLiteral("id"), static_cast<double>(r.id()));
    o.insert(QStringLiteral("release_id"), qs(r.release_id()));
    o.insert(QStringLiteral("release_version"), qs(r.release_version()));
    o.insert(QStringLiteral("target"), qs(r.target()));
    o.insert(QStringLiteral("production"), r.production());
    o.insert(QStringLiteral("emergency"), r.emergency());
    o.insert(QStringLiteral("plan_summary"), qs(r.plan_summary()));
    if (!r.plan_json().empty()) {
        o.insert(QStringLiteral("plan"),
                 QJsonDocument::fromJson(QByteArray::fromStdString(r.plan_json())).object());
    }
    o.insert(QStringLiteral("created"), isoTime(r.created_unix_ms()));
    o.insert(QStringLiteral("updated"), isoTime(r.updated_unix_ms()));
    return o;
}

quint64 countOf(const cpb::Rollout& r, const char* state) {
    const auto it = r.counts().find(state);
    return it == r.counts().end() ? 0 : it->second;
}

// "running, wave 2/4: 120 succeeded, 3 failed, 40 in progress, 800 pending of 963"
QString progressLine(const cpb::Rollout& r) {
    const QJsonObject status =
        QJsonDocument::fromJson(QByteArray::fromStdString(r.status_json())).object();
    const qsizetype waves = status.value(QLatin1String("waves")).toArray().size();
    const quint64 failed = countOf(r, "failed") + countOf(r, "reverted") + countOf(r, "timed_out");
    const quint64 inFlight = countOf(r, "offered") + countOf(r, "downloading") +
                             countOf(r, "installing") + countOf(r, "rebooting") +
                             countOf(r, "verifying");
    QString line = QStringLiteral("rollout %1 %2").arg(r.id()).arg(qs(r.state()));
    if (waves > 0)
        line += QStringLiteral(", wave %1/%2").arg(r.current_wave()).arg(waves);
    line += QStringLiteral(
                ": %1 succeeded, %2 failed, %3 skipped, %4 in progress, %5 pending of "
                "%6")
                .arg(countOf(r, "succeeded"))
                .arg(failed)
                .arg(countOf(r, "skipped"))
                .arg(inFlight)
                .arg(countOf(r, "pending"))
                .arg(r.total());
    if (!r.pause_reason().empty())
        line += QStringLiteral(" (%1)").arg(qs(r.pause_reason()));
    return line;
}

QString describe(const cpb::Rollout& r) {
    QString text = progressLine(r) + u'\n';
    text +=
        QStringLiteral("  release %1 (%2) to '%3'\n  %4\n  author %5%6\n")
            .arg(qs(r.release_id()).left(16), qs(r.release_version()), qs(r.target()),
                 qs(r.plan_summary()), qs(r.author()),
                 r.approved_by().empty() ? QString()
                                         : QStringLiteral(", approved by ") + qs(r.approved_by()));
    const QJsonObject status =
        QJsonDocument::fromJson(QByteArray::fromStdString(r.status_json())).object();
    for (const auto& value : status.value(QLatin1String("waves")).toArray()) {
        const QJsonObject w = value.toObject();
        text += QStringLiteral(
                    "  wave %1 (%2): %3, %4 devices, %5 succeeded, %6 failed, %7 in "
                    "progress, %8 not offered yet\n")
                    .arg(w.value(QLatin1String("number")).toInt())
                    .arg(w.value(QLatin1String("planned")).toString(),
                         w.value(QLatin1String("state")).toString())
                    .arg(w.value(QLatin1String("size")).toInteger())
                    .arg(w.value(QLatin1String("succeeded")).toInteger())
                    .arg(w.value(QLatin1String("failed")).toInteger())
                    .arg(w.value(QLatin1String("in_progress")).toInteger())
                    .arg(w.value(QLatin1String("pending")).toInteger());
    }
    return text.trimmed();
}

int printRollout(const Result<cpb::Rollout>& r, bool json) {
    if (!r)
        return failWith(r.error(), json);
    if (json)
        printJson(rolloutJson(*r));
    else
        printText(describe(*r));
    return kSuccess;
}

Result<qint64> rolloutId(const QCommandLineParser& p) {
    if (p.positionalArguments().size() != 1)
        return fail(QStringLiteral("cli.usage"), QStringLiteral("give exactly one rollout ID"));
    bool ok = false;
    const qint64 id = p.positionalArguments().first().toLongLong(&ok);
    if (!ok || id < 1) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("a rollout ID is a positive number; 'otafleetctl rollout "
                                   "list' shows them"));
    }
    return id;
}

int runCreate(const QCommandLineParser& p, ServerConnection& c, bool json) {
    if (!p.positionalArguments().isEmpty())
        return usageError(QStringLiteral("rollout create takes no arguments, only options"));
    if (!p.isSet(kRelease) || !p.isSet(kTarget) || !p.isSet(kWaves))
        return usageError(QStringLiteral("give --release ID, --target EXPR and --waves LIST"));
    cpb::CreateRolloutRequest request;
    request.set_release_id(p.value(kRelease).trimmed().toStdString());
    request.set_target(p.value(kTarget).toStdString());
    cpb::RolloutPlanOptions* plan = request.mutable_plan();
    plan->set_waves(p.value(kWaves).toStdString());
    const std::pair<const QCommandLineOption*,
                    void (cpb::RolloutPlanOptions::*)(const std::string&)>
        optional[] = {
            {&kSuccessThreshold, &cpb::RolloutPlanOptions::set_success_threshold},
            {&kFailureThreshold, &cpb::RolloutPlanOptions::set_failure_threshold},
            {&kMinExecuted, &cpb::RolloutPlanOptions::set_min_executed},
            {&kSoak, &cpb::RolloutPlanOptions::set_soak},
            {&kRate, &cpb::RolloutPlanOptions::set_rate},
            {&kRamp, &cpb::RolloutPlanOptions::set_ramp},
            {&kDeviceTimeout, &cpb::RolloutPlanOptions::set_device_timeout},
            {&kRetries, &cpb::RolloutPlanOptions::set_retries},
            {&kWindow, &cpb::RolloutPlanOptions::set_window},
            {&kPrecheck, &cpb::RolloutPlanOptions::set_precheck},
        };
    for (const auto& [opt, setter] : optional) {
        if (p.isSet(*opt))
            (plan->*setter)(p.value(*opt).toStdString());
    }
    plan->set_production(p.isSet(kProduction));
    plan->set_emergency(p.isSet(kEmergency));
    plan->set_include_late_joiners(p.isSet(kLateJoiners));
    return printRollout(c.call(&cpb::ConsoleService::Stub::CreateRollout, request), json);
}

using RolloutMethod = grpc::Status (cpb::ConsoleService::Stub::*)(grpc::ClientContext*,
                                                                  const cpb::RolloutRequest&,
                                                                  cpb::Rollout*);

std::function<int(const QCommandLineParser&, ServerConnection&, bool)> byId(RolloutMethod method) {
    return [method](const QCommandLineParser& p, ServerConnection& c, bool json) {
        auto id = rolloutId(p);
        if (!id)
            return usageError(id.error().message);
        cpb::RolloutRequest request;
        request.set_id(*id);
        return printRollout(c.call(method, request), json);
    };
}

int runList(const QCommandLineParser& p, ServerConnection& c, bool json) {
    bool okPage = false;
    bool okSize = false;
    const uint page = p.value(kPage).toUInt(&okPage);
    const uint size = p.value(kPageSize).toUInt(&okSize);
    if (!okPage || !okSize || size < 1 || size > 1000)
        return usageError(QStringLiteral("--page must be >= 0 and --page-size 1 to 1000"));
    cpb::ListRolloutsRequest request;
    request.set_page(page);
    request.set_page_size(size);
    auto reply = c.call(&cpb::ConsoleService::Stub::ListRollouts, request);
    if (!reply)
        return failWith(reply.error(), json);
    QJsonArray rollouts;
    QString text;
    for (const cpb::Rollout& r : reply->rollouts()) {
        rollouts.append(rolloutJson(r));
        text +=
            QStringLiteral("%1  %2  %3 to '%4'  %5/%6 succeeded%7\n")
                .arg(QString::number(r.id()).rightJustified(4), qs(r.state()).leftJustified(17),
                     qs(r.release_version()), qs(r.target()))
                .arg(countOf(r, "succeeded"))
                .arg(r.total())
                .arg(r.pause_reason().empty() ? QString()
                                              : QStringLiteral("  (%1)").arg(qs(r.pause_reason())));
    }
    if (json) {
        printJson(QJsonObject{{QStringLiteral("rollouts"), rollouts},
                              {QStringLiteral("total"), static_cast<double>(reply->total())}});
    } else {
        printText(text.isEmpty() ? QStringLiteral("no rollouts") : text.trimmed());
    }
    return kSuccess;
}

// Polls the status until the rollout completes, aborts or pauses. On a terminal the lines are
// redrawn in place; otherwise a line is printed whenever something changed.
int runWatch(const QCommandLineParser& p, ServerConnection& c, bool json) {
    auto id = rolloutId(p);
    if (!id)
        return usageError(id.error().message);
    bool okInterval = false;
    const double interval = p.value(kInterval).toDouble(&okInterval);
    if (!okInterval || interval < 0.1 || interval > 3600)
        return usageError(QStringLiteral("--interval takes 0.1 to 3600 seconds"));
    const bool terminal = !json && ::isatty(STDOUT_FILENO) == 1;
    cpb::RolloutRequest request;
    request.set_id(*id);
    QString last;
    int drawnLines = 0;
    for (;;) {
        auto reply = c.call(&cpb::ConsoleService::Stub::GetRollout, request);
        if (!reply)
            return failWith(reply.error(), json);
        const QString state = qs(reply->state());
        const bool over = state == u"completed" || state == u"aborted" || state == u"paused";
        const QString text =
            json ? QString::fromUtf8(
                       QJsonDocument(rolloutJson(*reply)).toJson(QJsonDocument::Compact))
            : terminal ? describe(*reply)
                       : progressLine(*reply);
        if (text != last) {
            if (terminal) {
                // Back to the first line drawn, clear to the end of the screen, draw again.
                if (drawnLines > 0)
                    std::fprintf(stdout, "\x1b[%dF\x1b[J", drawnLines);
                std::fputs(qPrintable(text + u'\n'), stdout);
                drawnLines = int(text.count(u'\n')) + 1;
            } else {
                std::fputs(qPrintable(text + u'\n'), stdout);
            }
            std::fflush(stdout);
            last = text;
        }
        if (over) {
            if (state == u"completed")
                return kSuccess;
            printError(Error{state == u"paused" ? QStringLiteral("rollout.paused")
                                                : QStringLiteral("rollout.aborted"),
                             state == u"paused"
                                 ? QStringLiteral("Rollout %1 paused: %2 Look at the failed "
                                                  "devices, then 'rollout resume' or 'rollout "
                                                  "abort'.")
                                       .arg(*id)
                                       .arg(qs(reply->pause_reason()))
                                 : QStringLiteral("Rollout %1 was aborted; no more offers are "
                                                  "made.")
                                       .arg(*id)});
            return kFailure;
        }
        QThread::msleep(static_cast<unsigned long>(interval * 1000));
    }
}

}  // namespace

QList<Command> rolloutCommands() {
    const QString g = QStringLiteral("rollout");
    using S = cpb::ConsoleService::Stub;
    return {
        serverCommandFor(
            g, QStringLiteral("create"),
            QStringLiteral("Create a draft rollout of a release to the devices a filter selects, "
                           "in waves (release-manager, admin)."),
            {},
            {kRelease, kTarget, kWaves, kSuccessThreshold, kFailureThreshold, kMinExecuted, kSoak,
             kRate, kRamp, kDeviceTimeout, kRetries, kWindow, kPrecheck, kProduction, kEmergency,
             kLateJoiners},
            runCreate),
        serverCommandFor(g, QStringLiteral("approve"),
                         QStringLiteral("Approve a production rollout; not its author "
                                        "(approver, admin)."),
                         QStringLiteral("ID"), {}, byId(&S::ApproveRollout)),
        serverCommandFor(g, QStringLiteral("start"),
                         QStringLiteral("Start a draft rollout; a production one waits for its "
                                        "approval (release-manager, admin)."),
                         QStringLiteral("ID"), {}, byId(&S::StartRollout)),
        serverCommandFor(g, QStringLiteral("pause"),
                         QStringLiteral("Pause a rollout: no new offers; devices that hold one "
                                        "finish (release-manager, approver, admin)."),
                         QStringLiteral("ID"), {}, byId(&S::PauseRollout)),
        serverCommandFor(g, QStringLiteral("resume"),
                         QStringLiteral("Resume a paused rollout (release-manager, admin)."),
                         QStringLiteral("ID"), {}, byId(&S::ResumeRollout)),
        serverCommandFor(g, QStringLiteral("abort"),
                         QStringLiteral("Abort a rollout for good (release-manager, approver, "
                                        "admin)."),
                         QStringLiteral("ID"), {}, byId(&S::AbortRollout)),
        serverCommandFor(g, QStringLiteral("retry-failed"),
                         QStringLiteral("Offer the release again to every failed, reverted or "
                                        "timed-out device (release-manager, admin)."),
                         QStringLiteral("ID"), {}, byId(&S::RetryFailedRollout)),
        serverCommandFor(g, QStringLiteral("status"),
                         QStringLiteral("A rollout's state, waves and device counts."),
                         QStringLiteral("ID"), {}, byId(&S::GetRollout)),
        serverCommandFor(g, QStringLiteral("list"),
                         QStringLiteral("List the server's rollouts, oldest first."), {},
                         {kPage, kPageSize}, runList),
        serverCommandFor(g, QStringLiteral("watch"),
                         QStringLiteral("Follow a rollout live until it completes (exit 0), "
                                        "pauses or aborts (exit 1)."),
                         QStringLiteral("ID"), {kInterval}, runWatch),
    };
}

}  // namespace otafleet::cli
