// AgentClient::push: the whole update path, started from wherever the device stands, so that
// running it again after an interruption (a killed client, a killed or rebooted agent, a lost
// link) finishes the job instead of refusing it or starting over.
#include "AgentClientPrivate.h"

#include "bundle/Bundle.h"

namespace otafleet::agentclient {
namespace {

// Where a push starts, from the device's state before it.
enum class Start { Upload, RollBackThenUpload, Reboot, Commit, Done };

// The firmware a bundle puts into a slot, as GetInfo describes slots.
struct Release {
    QString version;
    QString sha256;  // hex, of what the slot holds once installed; empty: never matches

    [[nodiscard]] bool isIn(const SlotInfo* slot) const {
        return slot && !sha256.isEmpty() && slot->version == version && slot->sha256 == sha256;
    }
};

const SlotInfo* slotInState(const AgentInfo& device, QStringView state) {
    for (const SlotInfo& s : device.slots) {
        if (s.state == state)
            return &s;
    }
    return nullptr;
}

std::unexpected<Error> otherReleasePending(const AgentInfo& device, const SlotInfo* slot,
                                           const QString& waitsFor, const Release& release) {
    const QString what =
        slot && !slot->version.isEmpty()
            ? QStringLiteral("version %1 in slot %2").arg(slot->version, slot->name)
            : QStringLiteral("an update");
    return fail(QStringLiteral("push.other-release-pending"),
                QStringLiteral("Device %1 has %2 waiting for %3; pushing %4 would discard it. "
                               "Pass --replace-pending to discard it, or finish it first "
                               "('otafleetctl device reboot', 'device commit').")
                    .arg(device.name.isEmpty() ? device.deviceId : device.name, what, waitsFor,
                         release.version));
}

Result<Start> startFor(const AgentInfo& device, const Release& release, bool replacePending) {
    if (device.state == u"pending-reboot") {
        const SlotInfo* pending = slotInState(device, u"pending");
        if (release.isIn(pending))
            return Start::Reboot;
        if (!replacePending)
            return otherReleasePending(device, pending, QStringLiteral("a reboot"), release);
        return Start::Upload;  // the install discards it (InstallRequest.replace_pending)
    }
    if (device.trial) {
        const SlotInfo* running = device.slot(device.activeSlot);
        if (release.isIn(running))
            return Start::Commit;
        if (!replacePending)
            return otherReleasePending(device, running, QStringLiteral("a commit"), release);
        // Never installed over: the slot it would go to holds the committed firmware.
        return Start::RollBackThenUpload;
    }
    const SlotInfo* active = device.slot(device.activeSlot);
    if (active && active->state == u"active" && release.isIn(active))
        return Start::Done;
    return Start::Upload;
}

// After a reboot into the release, or when a push finds it running on trial.
Status checkHealthyTrial(const AgentInfo& device, const QString& version) {
    if (device.trial && device.healthOk)
        return {};
    if (!device.lastErrorCode.isEmpty())
        return fail(device.lastErrorCode, device.lastErrorMessage);
    return fail(QStringLiteral("agent.trial-not-started"),
                QStringLiteral("After the reboot the device runs slot %1 without a healthy "
                               "trial of version %2.")
                    .arg(device.activeSlot, version));
}

bool isLinkTrouble(const Error& e) {
    return e.code == u"link.unreachable" || e.code == u"link.timeout";
}

}  // namespace

Result<AgentInfo> AgentClient::push(const QString& bundlePath, const PushOptions& options,
                                    const PushProgress& progress) {
    auto id = transferIdFor(bundlePath);
    if (!id)
        return fail(id.error());
    auto reader = bundle::BundleReader::open(bundlePath);
    if (!reader)
        return fail(reader.error());
    Release release;
    release.version = reader->manifest().version.toString();
    if (reader->manifest().payloads.size() == 1) {
        release.sha256 =
            QString::fromLatin1(reader->manifest().payloads.first().targetSha256.toHex());
    }
    const QString& version = release.version;
    const auto report = [&](PushPhase phase, qint64 done, qint64 total) {
        if (progress)
            progress(phase, done, total);
    };

    // Where the device stands. An install whose client went away finishes on the agent; wait
    // for it rather than fail with agent.busy. Without a link yet, the upload's own retries
    // take over, and the install's refusal tells if something waits (see below).
    const auto settledInfo = [&]() -> Result<AgentInfo> {
        const auto giveUpAt = std::chrono::steady_clock::now() + options.retryBudget;
        for (;;) {
            auto device = info();
            if (!device || device->state != u"installing" ||
                std::chrono::steady_clock::now() >= giveUpAt || d->cancelled) {
                return device;
            }
            std::this_thread::sleep_for(250ms);
        }
    };
    d->stats = PushStats{};
    Start start = Start::Upload;
    std::optional<AgentInfo> device;
    if (auto probed = settledInfo()) {
        device = *probed;
        auto where = startFor(*device, release, options.replacePending);
        if (!where)
            return fail(where.error());
        start = *where;
    } else if (isLinkTrouble(probed.error())) {
        ++d->stats.connectFailures;  // counts against the upload's connection attempts
    } else {
        return fail(probed.error());
    }
    if (start == Start::Done) {
        report(PushPhase::Done, 1, 1);
        return *device;
    }
    if (start == Start::RollBackThenUpload) {
        report(PushPhase::Rebooting, 0, 0);
        auto back = rollback(true, options.rebootTimeout);
        if (!back)
            return back;
        start = Start::Upload;
    }

    if (start == Start::Upload) {
        const auto uploadAndInstall = [&]() -> Status {
            const Status uploaded = d->resumeUpload(
                bundlePath, *id, options,
                [&](qint64 done, qint64 total) { report(PushPhase::Uploading, done, total); });
            if (!uploaded)
                return uploaded;
            return install(*id, progress, options.replacePending);
        };
        Status installed = uploadAndInstall();
        // The agent's unsynced staged copy was damaged (a power cut) and discarded: sent again
        // once, from the start; the fresh copy is hashed as it arrives.
        if (!installed && installed.error().code == u"agent.staging-damaged") {
            qCInfo(lcAgentClient).noquote() << installed.error().message << "Sending it again.";
            installed = uploadAndInstall();
        }
        if (auto ok = installed; !ok) {
            // Something waits that the probe above could not see (no link then): decide now.
            const bool waits = ok.error().code == u"agent.reboot-pending" ||
                               ok.error().code == u"agent.trial-running";
            auto now = waits && !device ? settledInfo() : Result<AgentInfo>(fail(ok.error()));
            auto where = now ? startFor(*now, release, options.replacePending)
                             : Result<Start>(fail(ok.error()));
            if (!where)
                return fail(where.error());
            if (*where != Start::Reboot && *where != Start::Commit)
                return fail(ok.error());
            start = *where;
            device = *now;
        } else {
            start = Start::Reboot;
        }
    }

    AgentInfo booted;
    if (start == Start::Reboot) {
        if (!options.reboot)
            return info();
        report(PushPhase::Rebooting, 0, 0);
        auto rebooted = rebootAndWait(options.rebootTimeout);
        if (!rebooted)
            return rebooted;
        booted = *rebooted;
    } else {
        booted = *device;  // Start::Commit: on trial already
    }
    report(PushPhase::HealthCheck, 0, 0);
    if (auto healthy = checkHealthyTrial(booted, version); !healthy)
        return fail(healthy.error());
    if (!options.commit)
        return booted;
    report(PushPhase::Committing, 0, 0);
    auto committed = commit();
    if (!committed)
        return committed;
    if (committed->activeVersion() != version || committed->trial) {
        return fail(QStringLiteral("agent.commit-mismatch"),
                    QStringLiteral("After the commit the device runs version %1, not %2.")
                        .arg(committed->activeVersion(), version));
    }
    report(PushPhase::Done, 1, 1);
    return committed;
}

}  // namespace otafleet::agentclient
