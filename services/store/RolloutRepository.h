// Rollouts the console runs itself (embedded mode, a bundle file) and those otafleetd runs (a
// release id and a target expression, schema 5): one row per rollout holding the engine's whole
// state (RolloutEngine::toJson()), rewritten after every change so a restart, even after kill -9,
// resumes exactly. The store does not read the JSON; fleet/EmbeddedRollouts does,
// through RolloutEngine::fromJsonBytes (bounded and validated).
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>

namespace otafleet::store {

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
    // Every rollout, oldest first.
    [[nodiscard]] Result<QList<RolloutRecord>> all() const;

private:
    QString m_connectionName;
};

}  // namespace otafleet::store
