#include "agent/AgentSmp.h"

#include "agent/Agent.h"
#include "agent/Logging.h"
#include "bundle/Bundle.h"
#include "common/AtomicFile.h"
#include "crypto/Sha256.h"

#include <QCborValue>
#include <QDir>
#include <QFile>

namespace otafleet::agent {
namespace {

using smp::DeviceError;
using smp::DeviceResult;
using smp::ImageRc;
using smp::MgmtRc;

const QString kTransferId = QStringLiteral("smp-upload");
constexpr qint64 kMaxIdentityFile = 256;

DeviceError imageError(ImageRc rc, const QString& reason = {}) {
    return DeviceError{int(smp::kGroupImage), int(rc), reason};
}

// An agent refusal as the image group code closest to it; "rsn" keeps the agent's own code and
// sentence, which is what a console shows.
DeviceError refusal(const Error& error) {
    ImageRc rc = ImageRc::Unknown;
    if (error.code == u"bundle.rollback") {
        rc = ImageRc::CurrentVersionIsNewer;
    } else if (error.code == u"bundle.payload-corrupted") {
        rc = ImageRc::InvalidHash;
    } else if (error.code == u"bundle.not-a-bundle" || error.code == u"bundle.truncated") {
        rc = ImageRc::InvalidImageHeader;
    } else if (error.code == u"agent.slot-too-small" || error.code == u"agent.bundle-too-large") {
        rc = ImageRc::InvalidImageTooLarge;
    } else if (error.code.startsWith(u"io.") || error.code == u"agent.slot-write-failed" ||
               error.code == u"agent.disk-full") {
        rc = ImageRc::FlashWriteFailed;
    } else if (error.code == u"agent.health-not-ok") {
        rc = ImageRc::ImageConfirmationDenied;
    }
    return imageError(rc, error.toString());
}

QCborMap offsetAnswer(quint64 offset) {
    return QCborMap{{QStringLiteral("off"), qint64(offset)}};
}

}  // namespace

AgentSmpBackend::AgentSmpBackend(Agent& agent)
    : m_agent(agent),
      m_identityPath(QDir(agent.config().dataDir).filePath(QStringLiteral("smp-upload.id"))) {}

DeviceResult<QCborMap> AgentSmpBackend::bootloaderInfo(const QString& query) const {
    if (!query.isEmpty()) {
        return smp::notSupported();  // MCUboot's modes mean nothing to A/B slots
    }
    return QCborMap{{QStringLiteral("bootloader"), QStringLiteral("otafleet-agent")}};
}

DeviceResult<QCborMap> AgentSmpBackend::identity() const {
    const AgentConfig& config = m_agent.config();
    return QCborMap{
        {QStringLiteral("sn"), config.deviceId},
        {QStringLiteral("key"), !config.identityKey.isEmpty() || !config.identityKeyUri.isEmpty()},
        {QStringLiteral("cert"), !config.identityCertificate.isEmpty()}};
}

std::optional<AgentSmpBackend::Staged> AgentSmpBackend::staged() const {
    const auto progress = m_agent.uploadProgress(kTransferId);
    if (!progress || !progress->complete()) {
        return std::nullopt;
    }
    const auto reader = bundle::BundleReader::open(m_agent.stagedBundlePath(kTransferId));
    if (!reader || reader->manifest().payloads.isEmpty()) {
        return std::nullopt;
    }
    const SlotContent content = contentOf(reader->manifest());
    return Staged{content.version, content.sha256};
}

QList<smp::image::SlotState> AgentSmpBackend::imageStates() const {
    const AgentReport report = m_agent.report();
    QList<smp::image::SlotState> out;
    const auto add = [&](int index, const SlotReport& slot, bool running) {
        if (!slot.content) {
            return;
        }
        smp::image::SlotState state;
        state.slot = index;
        state.version = slot.content->version;
        state.hash = slot.content->sha256;
        state.bootable = slot.state != u"bad";
        state.active = running;
        state.confirmed = running && !report.trial;
        state.pending = !running && slot.state == u"pending";
        out.append(state);
    };
    for (const SlotReport& slot : report.slots) {
        if (slot.name == report.activeSlot) {
            add(0, slot, true);
        }
    }
    if (const auto upload = staged()) {
        smp::image::SlotState state;
        state.slot = 1;
        state.version = upload->version;
        state.hash = upload->hash;
        out.append(state);  // uploaded, neither verified nor installed yet
        return out;
    }
    for (const SlotReport& slot : report.slots) {
        if (slot.name != report.activeSlot) {
            add(1, slot, false);
        }
    }
    return out;
}

QByteArray AgentSmpBackend::uploadIdentity() const {
    const auto bytes = readFileBounded(m_identityPath, kMaxIdentityFile);
    return bytes ? *bytes : QByteArray();
}

void AgentSmpBackend::discardStaged() {
    m_agent.discardUpload(kTransferId);
    QFile::remove(m_identityPath);
}

DeviceResult<QCborMap> AgentSmpBackend::upload(const QCborMap& request, smp::ReplyActions&) {
    const QCborValue off = request.value(QStringLiteral("off"));
    const QCborValue data = request.value(QStringLiteral("data"));
    if (!off.isInteger() || off.toInteger() < 0 || !data.isByteArray()) {
        return std::unexpected(
            DeviceError{-1, int(MgmtRc::Invalid), QStringLiteral("off and data needed")});
    }
    const quint64 offset = quint64(off.toInteger());
    const QByteArray bytes = data.toByteArray();
    auto progress = m_agent.uploadProgress(kTransferId);
    if (!progress) {
        return std::unexpected(refusal(progress.error()));
    }
    if (offset == 0) {
        const QCborValue len = request.value(QStringLiteral("len"));
        if (!len.isInteger() || len.toInteger() <= 0) {
            return std::unexpected(
                DeviceError{-1, int(MgmtRc::Invalid), QStringLiteral("len needed at off 0")});
        }
        const quint64 total = quint64(len.toInteger());
        if (total > m_agent.config().maxBundleSize) {
            return std::unexpected(
                imageError(ImageRc::InvalidImageTooLarge,
                           QStringLiteral("the agent takes bundles of at most %1 bytes ([agent] "
                                          "max_bundle_size)")
                               .arg(m_agent.config().maxBundleSize)));
        }
        // The same upload again (same length and SHA-256): resume where the staged file ends.
        const QByteArray sha = request.value(QStringLiteral("sha")).toByteArray();
        const QByteArray identity = QByteArray::number(total) + ' ' + sha.toHex();
        if (!sha.isEmpty() && progress->total == total && progress->received > 0 &&
            uploadIdentity() == identity) {
            return offsetAnswer(progress->received);
        }
        if (bytes.size() >= bundle::kMagic.size() && !bytes.startsWith(bundle::kMagic)) {
            return std::unexpected(imageError(
                ImageRc::InvalidImageHeaderMagic,
                QStringLiteral("not an otafleet bundle (.otab): this device runs otafleet-agent, "
                               "which installs signed bundles, not MCUboot images")));
        }
        discardStaged();
        if (auto written = writeFileAtomically(m_identityPath, identity); !written) {
            return std::unexpected(refusal(written.error()));
        }
        progress = UploadProgress{0, total};
    } else if (progress->total == 0) {
        return offsetAnswer(0);  // no upload under way: start at the beginning
    }
    if (offset != progress->received) {
        // As img_mgmt does: drop the data and say which offset the device expects.
        return offsetAnswer(progress->received);
    }
    if (offset + quint64(bytes.size()) > progress->total) {
        return std::unexpected(imageError(ImageRc::InvalidImageDataOverrun));
    }
    const auto next = m_agent.uploadChunk(kTransferId, progress->total, offset, bytes);
    if (!next) {
        return std::unexpected(refusal(next.error()));
    }
    QCborMap answer = offsetAnswer(next->received);
    if (!next->complete()) {
        return answer;
    }
    if (auto synced = m_agent.finishUpload(kTransferId); !synced) {
        return std::unexpected(refusal(synced.error()));
    }
    const QString path = m_agent.stagedBundlePath(kTransferId);
    if (const auto reader = bundle::BundleReader::open(path); !reader) {
        discardStaged();
        return std::unexpected(refusal(reader.error()));
    }
    const QByteArray identity = uploadIdentity();
    const QByteArray sha = QByteArray::fromHex(identity.mid(identity.indexOf(' ') + 1));
    if (!sha.isEmpty()) {
        const auto digest = crypto::Sha256::hashFile(path);
        answer.insert(QStringLiteral("match"), digest && *digest == sha);
    }
    qCInfo(lcAgent).noquote() << "smp: received a bundle of" << next->total << "bytes";
    return answer;
}

DeviceResult<void> AgentSmpBackend::setImageState(const QByteArray& hash, bool confirm) {
    const QList<smp::image::SlotState> states = imageStates();
    QByteArray running;
    std::optional<smp::image::SlotState> other;
    for (const auto& state : states) {
        if (state.active) {
            running = state.hash;
        } else {
            other = state;
        }
    }
    if (confirm) {
        if (!hash.isEmpty() && hash != running) {
            return std::unexpected(
                other && other->hash == hash
                    ? imageError(ImageRc::ImageConfirmationDenied,
                                 QStringLiteral("an otafleet agent runs a new release on trial "
                                                "first: mark it for test, reset, then confirm"))
                    : imageError(ImageRc::HashNotFound));
        }
        if (running.isEmpty()) {
            return std::unexpected(imageError(ImageRc::NoImage));
        }
        if (m_agent.report().trial) {
            if (auto committed = m_agent.commit(); !committed) {
                return std::unexpected(refusal(committed.error()));
            }
        }
        return {};
    }
    if (!hash.isEmpty() && hash == running) {
        return std::unexpected(imageError(ImageRc::ImageSettingTestToActiveDenied));
    }
    if (const auto upload = staged(); upload && upload->hash == hash) {
        if (auto installed = m_agent.install(kTransferId, {}, PendingRelease::Replace);
            !installed) {
            qCWarning(lcAgent).noquote() << "smp: install refused:" << installed.error().toString();
            return std::unexpected(refusal(installed.error()));
        }
        QFile::remove(m_identityPath);
        return {};
    }
    if (other && other->pending && other->hash == hash) {
        return {};  // already installed and waiting for its trial boot
    }
    return std::unexpected(imageError(ImageRc::HashNotFound));
}

DeviceResult<void> AgentSmpBackend::eraseImage() {
    // The inactive slot stays: it is the agent's way back. Erasing drops what was uploaded.
    discardStaged();
    return {};
}

}  // namespace otafleet::agent
