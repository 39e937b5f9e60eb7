// Rollouts the console runs itself (embedded mode, a bundle file) and those otafleetd runs (a
// release id and a target expression, schema 6), so a restart, even after kill -9, resumes
// exactly:
//   - embedded rollouts: one row holding the engine's whole state (RolloutEngine::toJson()),
//     rewritten after every change (fleet/EmbeddedRollouts reads it through fromJsonBytes);
//   - otafleetd's rollouts (schema 7): the row holds the engine's header (headerJson(): no
//     devices) and rollout_devices one row per device, keyed by its position in the engine;
//     saveWithDevices() rewrites the header and only the devices that changed, in one
//     transaction, so persisting an event costs the same for 10 devices as for 1,000,000.
// The store does not interpret the JSON or the device states; the engine validates what it
// reads back.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>

namespace otafleet::store {

// One device of an otafleetd rollout as stored (RolloutEngine's DeviceProgress, state by name).
struct RolloutDeviceRow {
    qint64 position = 0;  // 0-based place in the engine's target order
    QString deviceId;
    QString state;
    int wave = -1;
    int attempts = 0;
    qint64 offeredAtMs = 0;
    QString reason;
    qint64 queueSeq = 0;
};

struct RolloutRecord {
    qint64 id = 0;
    QString name;
    QString bundlePath;
    QString releaseId;  // otafleetd's rollouts: the release; "" for embedded ones
    QString target;     // otafleetd's rollouts: the filter expression as given
    QString state;      // the engine's state name ("running", "paused", ...)
    QByteArray engineJson;
    QDateTime created;
    QDateTime updated;
};

class RolloutRepository {
public:
    static constexpr qsizetype kMaxNameLength = 200;
    // A 1,000,000-device engine serialises to roughly 100 MB; anything larger is refused.
    static constexpr qsizetype kMaxEngineBytes = 256 * 1024 * 1024;

    explicit RolloutRepository(QString connectionName);

    // Errors: store.rollout-too-large, store.*.
    [[nodiscard]] Result<qint64> add(const QString& name, const QString& bundlePath,
                                     const QString& state, const QByteArray& engineJson,
                                     const QDateTime& now = QDateTime::currentDateTimeUtc());
    // otafleetd's rollouts: name, releaseId, target, state and engineJson of `record` (id,
    // bundlePath and the times are ignored). Errors as add().
    [[nodiscard]] Result<qint64> addForRelease(
        const RolloutRecord& record, const QDateTime& now = QDateTime::currentDateTimeUtc());
    // Errors: store.unknown-rollout, store.rollout-too-large, store.*.
    [[nodiscard]] Status save(qint64 id, const QString& state, const QByteArray& engineJson,
                              const QDateTime& now = QDateTime::currentDateTimeUtc());
    // otafleetd's rollouts with their devices in rows: a new rollout with every device, and the
    // header plus the devices that changed, each in one transaction. Errors as add() and save().
    [[nodiscard]] Result<qint64> addForRelease(
        const RolloutRecord& record, const QList<RolloutDeviceRow>& devices,
        const QDateTime& now = QDateTime::currentDateTimeUtc());
    [[nodiscard]] Status saveWithDevices(qint64 id, const QString& state,
                                         const QByteArray& headerJson,
                                         const QList<RolloutDeviceRow>& changed,
                                         const QDateTime& now = QDateTime::currentDateTimeUtc());
    // A rollout's stored devices in position order (none for a rollout stored whole).
    [[nodiscard]] Result<QList<RolloutDeviceRow>> devices(qint64 id) const;
    // One page of them (at most kMaxDevicePage rows from `offset`) and how many there are.
    static constexpr int kMaxDevicePage = 1000;
    [[nodiscard]] Result<QList<RolloutDeviceRow>> devicesPage(qint64 id, qint64 offset,
                                                              int limit) const;
    [[nodiscard]] Result<qint64> deviceCount(qint64 id) const;
    // The reasons of the devices whose latest attempt failed, reverted or timed out, with how
    // many devices gave each, most frequent first (at most kMaxReasonRows reasons).
    static constexpr int kMaxReasonRows = 10000;
    [[nodiscard]] Result<QList<std::pair<QString, qint64>>> failedReasons(qint64 id) const;
    // Every rollout, oldest first.
    [[nodiscard]] Result<QList<RolloutRecord>> all() const;

private:
    [[nodiscard]] Status writeDevices(qint64 id, const QList<RolloutDeviceRow>& rows);
    QString m_connectionName;
};

}  // namespace otafleet::store
