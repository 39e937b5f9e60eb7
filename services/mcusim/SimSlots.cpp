#include "mcusim/SimSlots.h"

#include "bundle/McubootImage.h"
#include "common/AtomicFile.h"
#include "crypto/Sha256.h"

#include <QCborValue>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtEndian>

#include <tuple>

namespace otafleet::mcusim {
namespace {

namespace mcuboot = bundle::mcuboot;
using smp::DeviceError;
using smp::ImageRc;
using smp::MgmtRc;

constexpr qint64 kMaxStateFile = 64 * 1024;

DeviceError imageError(ImageRc rc, const QString& reason = {}) {
    return DeviceError{int(smp::kGroupImage), int(rc), reason};
}
DeviceError mgmtError(MgmtRc rc, const QString& reason = {}) {
    return DeviceError{-1, int(rc), reason};
}

// What MCUboot's checks found wrong, as the image group code closest to it; the reason text
// carries the precise otafleet code so a console can say why.
ImageRc rcForImageError(const QString& code) {
    if (code == QStringLiteral("mcuboot.bad-magic")) {
        return ImageRc::InvalidImageHeaderMagic;
    }
    if (code == QStringLiteral("mcuboot.truncated")) {
        return ImageRc::InvalidImageHeader;
    }
    if (code == QStringLiteral("mcuboot.tlv-malformed") ||
        code == QStringLiteral("mcuboot.unsigned")) {
        return ImageRc::InvalidTlv;
    }
    if (code == QStringLiteral("mcuboot.hash-mismatch")) {
        return ImageRc::InvalidHash;
    }
    return ImageRc::Unknown;  // key and signature failures have no code of their own
}

// img_mgmt's version text: MAJOR.MINOR.REVISION, with .BUILD when it is not zero.
QString versionText(const mcuboot::ImageVersion& v) {
    QString text = QStringLiteral("%1.%2.%3").arg(v.major).arg(v.minor).arg(v.revision);
    if (v.build != 0) {
        text += QStringLiteral(".%1").arg(v.build);
    }
    return text;
}

QString pendingName(SimSlots::Pending pending) {
    switch (pending) {
        case SimSlots::Pending::Test:
            return QStringLiteral("test");
        case SimSlots::Pending::Permanent:
            return QStringLiteral("permanent");
        case SimSlots::Pending::None:
            break;
    }
    return QStringLiteral("none");
}

}  // namespace

QString SimSlots::path(const char* name) const {
    return QDir(m_dir).filePath(QString::fromLatin1(name));
}

Result<SimSlots> SimSlots::open(const QString& dir, QByteArray publicKeyPem, qint64 slotSize) {
    if (!QDir().mkpath(dir)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Cannot create the device directory %1.").arg(dir));
    }
    SimSlots slots;
    slots.m_dir = dir;
    slots.m_publicKey = std::move(publicKeyPem);
    slots.m_slotSize = slotSize;
    const QString statePath = slots.path("state.json");
    if (QFile::exists(statePath)) {
        const auto bytes = readFileBounded(statePath, kMaxStateFile);
        if (!bytes) {
            return fail(bytes.error());
        }
        const QJsonObject state = QJsonDocument::fromJson(*bytes).object();
        if (state.isEmpty()) {
            return fail(QStringLiteral("mcusim.bad-state"),
                        QStringLiteral("%1 is not the simulator's state; delete the directory to "
                                       "start with blank slots.")
                            .arg(statePath));
        }
        const QString pending = state.value(QStringLiteral("pending")).toString();
        slots.m_pending = pending == QStringLiteral("test")        ? Pending::Test
                          : pending == QStringLiteral("permanent") ? Pending::Permanent
                                                                   : Pending::None;
        slots.m_primaryConfirmed = state.value(QStringLiteral("primary_confirmed")).toBool(true);
        slots.m_uploadLength = state.value(QStringLiteral("upload_length")).toInteger(-1);
        slots.m_uploadSha =
            QByteArray::fromHex(state.value(QStringLiteral("upload_sha")).toString().toLatin1());
    }
    if (slots.m_uploadLength >= 0) {
        slots.m_uploadOffset =
            qMin(QFileInfo(slots.path("slot1.bin")).size(), slots.m_uploadLength);
        QFile::resize(slots.path("slot1.bin"), slots.m_uploadOffset);
    }
    return slots;
}

void SimSlots::saveState() const {
    const QJsonObject state{
        {QStringLiteral("pending"), pendingName(m_pending)},
        {QStringLiteral("primary_confirmed"), m_primaryConfirmed},
        {QStringLiteral("upload_length"), m_uploadLength},
        {QStringLiteral("upload_sha"), QString::fromLatin1(m_uploadSha.toHex())}};
    // A simulator that cannot write its directory cannot go on pretending to be flash.
    if (!writeFileAtomically(path("state.json"), QJsonDocument(state).toJson())) {
        qFatal("otafleet-mcusim: cannot write %s", qPrintable(path("state.json")));
    }
}

QByteArray SimSlots::readSlot(int slot) const {
    QFile file(path(slot == 0 ? "slot0.bin" : "slot1.bin"));
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return file.read(m_slotSize);
}

QByteArray SimSlots::slotHash(int slot) const {
    if (slot == 1 && m_uploadLength >= 0) {
        return {};  // an upload is under way: no image there yet
    }
    const auto info = mcuboot::verifyImage(readSlot(slot), m_publicKey);
    return info ? info->sha256 : QByteArray();
}

QList<smp::image::SlotState> SimSlots::states() const {
    QList<smp::image::SlotState> out;
    for (int slot = 0; slot < 2; ++slot) {
        if (slot == 1 && m_uploadLength >= 0) {
            continue;
        }
        const auto info = mcuboot::verifyImage(readSlot(slot), m_publicKey);
        if (!info) {
            continue;
        }
        smp::image::SlotState state;
        state.slot = slot;
        state.version = versionText(info->version);
        state.hash = info->sha256;
        state.bootable = true;
        state.active = slot == 0;
        state.confirmed = slot == 0 && m_primaryConfirmed;
        state.pending = slot == 1 && m_pending != Pending::None;
        state.permanent = slot == 1 && m_pending == Pending::Permanent;
        out.append(state);
    }
    return out;
}

DeviceResult<QCborMap> SimSlots::upload(const QCborMap& request) {
    const QCborValue off = request.value(QStringLiteral("off"));
    const QCborValue data = request.value(QStringLiteral("data"));
    if (!off.isInteger() || off.toInteger() < 0 || !data.isByteArray()) {
        return std::unexpected(mgmtError(MgmtRc::Invalid, QStringLiteral("off and data needed")));
    }
    const qint64 offset = off.toInteger();
    const QByteArray bytes = data.toByteArray();
    if (offset == 0) {
        const QCborValue len = request.value(QStringLiteral("len"));
        if (!len.isInteger() || len.toInteger() <= 0) {
            return std::unexpected(
                mgmtError(MgmtRc::Invalid, QStringLiteral("len needed at off 0")));
        }
        if (len.toInteger() > m_slotSize) {
            return std::unexpected(imageError(ImageRc::InvalidImageTooLarge));
        }
        if (m_pending != Pending::None) {
            return std::unexpected(imageError(
                ImageRc::ImageAlreadyPending,
                QStringLiteral("the secondary slot holds an image waiting for its swap")));
        }
        const QByteArray sha = request.value(QStringLiteral("sha")).toByteArray();
        if (m_uploadLength == len.toInteger() && !sha.isEmpty() && sha == m_uploadSha &&
            m_uploadOffset > 0) {
            return QCborMap{{QStringLiteral("off"), m_uploadOffset}};  // resume
        }
        m_uploadLength = len.toInteger();
        m_uploadSha = sha;
        m_uploadOffset = 0;
        QFile::remove(path("slot1.bin"));
        saveState();
        constexpr int kMagicSize = 4;
        if (bytes.size() >= kMagicSize &&
            qFromLittleEndian<quint32>(bytes.constData()) != mcuboot::kImageMagic) {
            m_uploadLength = -1;
            saveState();
            return std::unexpected(imageError(ImageRc::InvalidImageHeaderMagic,
                                              QStringLiteral("not an MCUboot image")));
        }
    }
    if (m_uploadLength < 0 || offset != m_uploadOffset) {
        // As img_mgmt does: drop the data and say which offset the device expects.
        return QCborMap{{QStringLiteral("off"), m_uploadLength < 0 ? 0 : m_uploadOffset}};
    }
    if (offset + bytes.size() > m_uploadLength) {
        return std::unexpected(imageError(ImageRc::InvalidImageDataOverrun));
    }
    QFile file(path("slot1.bin"));
    if (!file.open(QIODevice::WriteOnly | QIODevice::Append) || file.write(bytes) != bytes.size()) {
        return std::unexpected(imageError(ImageRc::FlashWriteFailed));
    }
    file.close();
    m_uploadOffset += bytes.size();
    QCborMap answer{{QStringLiteral("off"), m_uploadOffset}};
    if (m_uploadOffset < m_uploadLength) {
        return answer;
    }
    // The last chunk: check the image as MCUboot will before it would ever boot it.
    const QByteArray image = readSlot(1);
    const QByteArray sha = m_uploadSha;
    m_uploadLength = -1;
    m_uploadSha.clear();
    m_uploadOffset = 0;
    const auto info = mcuboot::verifyImage(image, m_publicKey);
    if (!info) {
        QFile::remove(path("slot1.bin"));
        saveState();
        return std::unexpected(
            imageError(rcForImageError(info.error().code), info.error().toString()));
    }
    if (request.value(QStringLiteral("upgrade")).toBool(false)) {
        const auto running = mcuboot::parseImage(readSlot(0));
        const auto key = [](const mcuboot::ImageVersion& v) {
            return std::tuple(v.major, v.minor, v.revision, v.build);
        };
        if (running && key(info->version) <= key(running->version)) {
            QFile::remove(path("slot1.bin"));
            saveState();
            return std::unexpected(imageError(ImageRc::CurrentVersionIsNewer));
        }
    }
    saveState();
    if (!sha.isEmpty()) {
        answer.insert(QStringLiteral("match"), crypto::Sha256::hash(image) == sha);
    }
    return answer;
}

DeviceResult<void> SimSlots::setState(const QByteArray& hash, bool confirm) {
    const QByteArray primary = slotHash(0);
    const QByteArray secondary = slotHash(1);
    if (confirm && (hash.isEmpty() || hash == primary)) {
        if (primary.isEmpty()) {
            return std::unexpected(imageError(ImageRc::NoImage));
        }
        m_primaryConfirmed = true;
    } else if (!secondary.isEmpty() && hash == secondary) {
        m_pending = confirm ? Pending::Permanent : Pending::Test;
    } else if (!confirm && hash == primary) {
        return std::unexpected(imageError(ImageRc::ImageSettingTestToActiveDenied));
    } else {
        return std::unexpected(imageError(ImageRc::HashNotFound));
    }
    saveState();
    return {};
}

DeviceResult<void> SimSlots::eraseSecondary() {
    QFile::remove(path("slot1.bin"));
    m_pending = Pending::None;
    m_uploadLength = -1;
    m_uploadSha.clear();
    m_uploadOffset = 0;
    saveState();
    return {};
}

void SimSlots::swapSlots() {
    const QString a = path("slot0.bin");
    const QString b = path("slot1.bin");
    const QString t = path("swap.tmp");
    QFile::remove(t);
    const bool hadA = QFile::rename(a, t);
    QFile::rename(b, a);
    if (hadA) {
        QFile::rename(t, b);
    }
}

void SimSlots::boot() {
    if (m_pending != Pending::None && !slotHash(1).isEmpty()) {
        swapSlots();
        m_primaryConfirmed = m_pending == Pending::Permanent;
    } else if (!m_primaryConfirmed) {
        swapSlots();  // the test boot was never confirmed: MCUboot reverts
        m_primaryConfirmed = true;
    }
    m_pending = Pending::None;
    saveState();
}

}  // namespace otafleet::mcusim
