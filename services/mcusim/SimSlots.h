// The flash of a simulated MCUboot device: a primary slot (what runs) and a secondary slot
// (where uploads land), each a file in the device's directory, plus the state MCUboot keeps in
// the slot trailers (pending test or permanent swap, confirmed) in state.json. Uploads check the
// finished image as MCUboot would before booting it (header, TLVs, SHA-256, ECDSA P-256 against
// the device's key); reset() takes MCUboot's boot decision: swap a pending image in, and swap
// back an image that was tested but never confirmed.
#pragma once

#include "common/Error.h"
#include "smp/SmpCommands.h"
#include "smp/SmpError.h"

#include <QByteArray>
#include <QCborMap>
#include <QString>

#include <expected>

namespace otafleet::mcusim {

using smp::DeviceResult;

class SimSlots {
public:
    enum class Pending { None, Test, Permanent };

    // Loads (or creates) the slots in `dir`. Errors: mcusim.bad-state, io.*.
    [[nodiscard]] static Result<SimSlots> open(const QString& dir, QByteArray publicKeyPem,
                                               qint64 slotSize);

    [[nodiscard]] QList<smp::image::SlotState> states() const;
    // One upload request (smp_group_1 "Image upload"); the answer's "off" is where the device
    // wants the next chunk, which is how a client resumes.
    [[nodiscard]] DeviceResult<QCborMap> upload(const QCborMap& request);
    [[nodiscard]] DeviceResult<void> setState(const QByteArray& hash, bool confirm);
    [[nodiscard]] DeviceResult<void> eraseSecondary();
    // MCUboot's decision at boot.
    void boot();
    [[nodiscard]] qint64 uploadOffset() const { return m_uploadOffset; }

private:
    SimSlots() = default;
    [[nodiscard]] QString path(const char* name) const;
    [[nodiscard]] QByteArray readSlot(int slot) const;
    [[nodiscard]] QByteArray slotHash(int slot) const;  // SHA256 TLV of a valid image, else empty
    void saveState() const;
    void swapSlots();

    QString m_dir;
    QByteArray m_publicKey;
    qint64 m_slotSize = 0;
    Pending m_pending = Pending::None;
    bool m_primaryConfirmed = true;
    // Upload in progress into the secondary slot (survives restarts: the slot file is the data).
    qint64 m_uploadLength = -1;
    QByteArray m_uploadSha;
    qint64 m_uploadOffset = 0;
};

}  // namespace otafleet::mcusim
