// otafleetctl bundle delta: a zstd-patch delta bundle from two full bundles of one product.
#include "Cli.h"

#include "bundle/Delta.h"

#include <QJsonArray>

namespace otafleet::cli {
namespace {

const QCommandLineOption kFrom(QStringLiteral("from"),
                               QStringLiteral("The full bundle the devices run now (the base)."),
                               QStringLiteral("OLD.otab"));
const QCommandLineOption kTo(QStringLiteral("to"),
                             QStringLiteral("The full bundle the devices should end up with."),
                             QStringLiteral("NEW.otab"));
const QCommandLineOption kOut(QStringList{QStringLiteral("o"), QStringLiteral("output")},
                              QStringLiteral("The delta bundle to write (unsigned)."),
                              QStringLiteral("DELTA.otab"));
const QCommandLineOption kLevel(QStringLiteral("level"),
                                QStringLiteral("zstd level 1-22: higher makes smaller patches, "
                                               "more slowly."),
                                QStringLiteral("N"),
                                QString::number(bundle::DeltaOptions::kDefaultLevel));
const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON."));

int runDelta(const QCommandLineParser& p) {
    if (!p.positionalArguments().isEmpty()) {
        return usageError(
            QStringLiteral("bundle delta takes no positional arguments; use --from, "
                           "--to and -o"));
    }
    if (!p.isSet(kFrom) || !p.isSet(kTo) || !p.isSet(kOut)) {
        return usageError(
            QStringLiteral("bundle delta needs --from OLD.otab, --to NEW.otab and "
                           "-o DELTA.otab"));
    }
    bool levelOk = false;
    bundle::DeltaOptions options;
    options.level = p.value(kLevel).toInt(&levelOk);
    if (!levelOk) {
        return usageError(QStringLiteral("--level takes a number, not '%1'").arg(p.value(kLevel)));
    }
    ProgressPrinter progress(QStringLiteral("Making patches"));
    const auto made =
        bundle::createDelta(p.value(kFrom), p.value(kTo), p.value(kOut), options,
                            [&](qint64 done, qint64 total) { progress.update(done, total); });
    progress.finish();
    const bool json = p.isSet(kJson);
    if (!made) {
        return failWith(made.error(), json);
    }
    if (json) {
        QJsonArray payloads;
        for (const auto& s : *made) {
            payloads.append(QJsonObject{{QStringLiteral("name"), s.name},
                                        {QStringLiteral("base_size"), qint64(s.baseSize)},
                                        {QStringLiteral("target_size"), qint64(s.targetSize)},
                                        {QStringLiteral("patch_size"), qint64(s.patchSize)}});
        }
        printJson(QJsonObject{{QStringLiteral("output"), p.value(kOut)},
                              {QStringLiteral("signed"), false},
                              {QStringLiteral("payloads"), payloads}});
        return kSuccess;
    }
    QString text;
    for (const auto& s : *made) {
        const double percent =
            s.targetSize == 0 ? 0.0 : 100.0 * double(s.patchSize) / double(s.targetSize);
        text += QStringLiteral("payload %1: %2 -> %3, patch %4 (%5% of the target)\n")
                    .arg(s.name, formatBytes(qint64(s.baseSize)), formatBytes(qint64(s.targetSize)),
                         formatBytes(qint64(s.patchSize)))
                    .arg(percent, 0, 'f', 1);
    }
    text += QStringLiteral(
                "Wrote %1 (unsigned). Sign it with 'otafleetctl bundle sign'; devices "
                "accept it only while they run the --from release.")
                .arg(p.value(kOut));
    printText(text);
    return kSuccess;
}

}  // namespace

QList<Command> deltaCommands() {
    return {Command{QStringLiteral("bundle"),
                    QStringLiteral("delta"),
                    QStringLiteral("Make a delta bundle (zstd patches) from OLD to NEW; devices "
                                   "running OLD apply it."),
                    {},
                    [](QCommandLineParser& p) {
                        p.addOptions({kFrom, kTo, kOut, kLevel, kJson});
                    },
                    runDelta}};
}

}  // namespace otafleet::cli
