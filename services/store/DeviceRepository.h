// The devices the fleet knows: address, name, the last state each reported (a snapshot kept as
// JSON so the store needs no knowledge of transports), when it was last seen, and its last error.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>

namespace otafleet::store {

struct DeviceRecord {
    qint64 id = 0;
    QString uri;
    QString displayName;
    QByteArray snapshotJson;  // empty until the device answered once
    QDateTime lastSeen;       // invalid until the device answered once
    QString lastErrorCode;    // empty when the last operation succeeded
    QString lastErrorMessage;
    QDateTime added;
};

class DeviceRepository {
public:
    static constexpr qsizetype kMaxSnapshotBytes = 256 * 1024;
    static constexpr qsizetype kMaxNameLength = 200;

    explicit DeviceRepository(QString connectionName);

    // Errors: store.duplicate (the address is already in the fleet), store.invalid-input.
    [[nodiscard]] Result<qint64> add(const QString& uri, const QString& displayName);
    // Errors: store.not-found.
    [[nodiscard]] Result<DeviceRecord> get(qint64 id) const;
    [[nodiscard]] Result<QList<DeviceRecord>> all() const;
    [[nodiscard]] Status rename(qint64 id, const QString& displayName);
    // A successful contact: stores the snapshot and the time. The last error stays until the
    // caller clears it, because a device that answers may still have failed its last update.
    [[nodiscard]] Status recordSnapshot(qint64 id, const QByteArray& snapshotJson,
                                        const QDateTime& seen);
    [[nodiscard]] Status recordError(qint64 id, const QString& code, const QString& message);
    [[nodiscard]] Status clearError(qint64 id);
    [[nodiscard]] Status remove(qint64 id);

private:
    [[nodiscard]] Status expectOneRow(qint64 id, int rowsAffected) const;
    QString m_connectionName;
};

}  // namespace otafleet::store
