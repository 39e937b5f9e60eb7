#include "agent/Agent.h"

#include "agent/CrashPoint.h"
#include "agent/HealthChecks.h"
#include "agent/Logging.h"
#include "agent/PayloadWriter.h"
#include "agent/Telemetry.h"
#include "bundle/Bundle.h"
#include "bundle/BundleVerifier.h"
#include "common/SemVer.h"
#include "common/Version.h"

#include <QDir>
#include <QFileInfo>

namespace otafleet::agent {
namespace {

class NullSink final : public bundle::PayloadSink {
public:
    Status write(QByteArrayView) override { return {}; }
};

// A slot may boot only with verified content at or above the stored security version. One rule
// for an explicit rollback and for the boot verifier's fallback: a corrupted active slot must
// not become a way back to firmware with known holes.
Result<SlotContent> verifyBootable(const SlotStore& slots, const crypto::TrustStore& trust,
                                   SlotId slot, quint64 storedSecurityVersion) {
    auto content = slots.verify(slot, trust);
    if (content && content->securityVersion < storedSecurityVersion) {
        return fail(QStringLiteral("agent.rollback-blocked"),
                    QStringLiteral("Slot %1 holds security version %2, below the device's stored "
                                   "%3; anti-rollback forbids booting it. Install a current "
                                   "release.")
                        .arg(slotName(slot))
                        .arg(content->securityVersion)
                        .arg(storedSecurityVersion));
    }
    return content;
}

// Only a verdict about the slot's content marks it bad; a read error (io.*) may be transient and
// must not cost the device a good slot.
bool condemnsSlot(const Error& error) {
    return error.code == u"agent.tamper-detected" || error.code == u"agent.slot-empty" ||
           error.code == u"agent.rollback-blocked";
}

// Progress is reported at most every this many bytes, so a stream is not flooded.
constexpr qint64 kProgressStep = 256 * 1024;

std::function<void(qint64, qint64)> throttled(InstallPhase phase, const QString& version,
                                              const QString& slot,
                                              const std::function<void(const InstallEvent&)>& out) {
    auto last = std::make_shared<qint64>(-kProgressStep);
    return [=](qint64 done, qint64 total) {
        if (out && (done - *last >= kProgressStep || done == total)) {
            *last = done;
            out(InstallEvent{phase, done, total, version, slot});
        }
    };
}

// Firmware that verified and was committed keeps booting after its signer is revoked: revoking a
// superseded or compromised key must not brick a fleet at its next reboot. A new install signed
// by that key is refused, because installs use the full trust with its CRLs.
crypto::TrustStore withoutRevocations(crypto::TrustStore trust) {
    trust.crlsPem.clear();
    return trust;
}

}  // namespace

Result<crypto::TrustStore> bundleTrust(const AgentConfig& config) {
    auto trust = crypto::TrustStore::fromPemFile(config.bundleRoot);
    if (!trust)
        return fail(trust.error());
    if (auto ok = trust->addCrlFiles(config.crlFiles); !ok)
        return fail(ok.error());
    return trust;
}

QString agentVersion() {
    return QString::fromLatin1(kVersion);
}

Agent::Agent(AgentConfig config, std::unique_ptr<BootControl> boot, crypto::TrustStore trust)
    : m_config(std::move(config)),
      m_boot(std::move(boot)),
      m_trust(std::move(trust)),
      m_bootTrust(withoutRevocations(m_trust)),
      m_slots(m_config.slotA, m_config.slotB,
              QDir(m_config.dataDir).filePath(QStringLiteral("state"))),
      m_uploads(QDir(m_config.dataDir).filePath(QStringLiteral("incoming")),
                m_config.maxBundleSize),
      m_telemetry(Telemetry::open(m_config)) {}

Result<std::unique_ptr<Agent>> Agent::create(const AgentConfig& config) {
    auto boot = createBootControl(config);
    if (!boot)
        return fail(boot.error());
    auto trust = bundleTrust(config);
    if (!trust)
        return fail(trust.error());
    auto agent = std::unique_ptr<Agent>(new Agent(config, std::move(*boot), std::move(*trust)));
    agent->m_uploads.removeStale();
    return agent;
}

void Agent::setError(const Error& error) {
    qCWarning(lcAgent).noquote() << error.toString();
    m_lastError = error;
}

Status Agent::bootStage() {
    std::lock_guard op(m_operation);
    auto state = m_boot->load();
    if (!state)
        return fail(state.error());
    const boot::Decision decision = boot::begin(*state);
    // The used try is on disk before anything else runs: a crash during this boot counts.
    if (auto ok = m_boot->store(*state); !ok)
        return ok;
    crash::at("boot-counted");
    std::lock_guard lock(m_mutex);
    if (decision.exhaustedRevert) {
        m_reverted = true;
        setError(Error{QStringLiteral("agent.trial-exhausted"),
                       QStringLiteral("The trial of slot %1 used all its boots without a commit; "
                                      "the device went back to slot %2.")
                           .arg(slotName(otherSlot(state->primary)), slotName(state->primary))});
    }
    return settle(*state, 0);
}

// Boots the primary slot if it verifies, else the other verified slot; runs the health check and
// reverts a failed trial. Called with m_mutex held.
Status Agent::settle(BootState& state, int depth) {
    SlotId booted = state.primary;
    auto content = verifyBootable(m_slots, m_bootTrust, booted, state.securityVersion);
    if (!content) {
        setError(content.error());
        if (state.trial) {
            boot::revertTrial(state);
            m_reverted = true;
        } else if (condemnsSlot(content.error())) {
            state.setStatus(booted, SlotStatus::Bad);
            if (state.status(otherSlot(booted)) == SlotStatus::Good) {
                state.primary = otherSlot(booted);
            }
        }
        if (auto ok = m_boot->store(state); !ok)
            return ok;
        booted = state.primary;
        content = state.status(booted) == SlotStatus::Good
                      ? verifyBootable(m_slots, m_bootTrust, booted, state.securityVersion)
                      : content;
        if (!content) {
            if (state.status(booted) == SlotStatus::Good && condemnsSlot(content.error())) {
                state.setStatus(booted, SlotStatus::Bad);
                if (auto ok = m_boot->store(state); !ok)
                    return ok;
            }
            qCCritical(lcAgent) << "no slot holds verified firmware; waiting for an install";
            m_state = state;
            m_booted = booted;
            m_bootable = false;
            m_healthOk = false;
            return {};
        }
    }
    m_state = state;
    m_booted = booted;
    m_bootable = true;
    qCInfo(lcAgent).noquote() << QStringLiteral("booted slot %1 (version %2)%3")
                                     .arg(slotName(booted), content->version,
                                          state.trial ? QStringLiteral(", trial") : QString());
    m_healthOk = runHealthCheck(booted, *content);
    crash::at("health-checked");
    if (!m_healthOk && state.trial && state.primary == booted && depth == 0) {
        setError(Error{QStringLiteral("agent.health-check-failed"),
                       QStringLiteral("The health check of version %1 in slot %2 failed during "
                                      "its trial; the device went back to slot %3.")
                           .arg(content->version, slotName(booted), slotName(otherSlot(booted)))});
        boot::revertTrial(state);
        m_reverted = true;
        if (auto ok = m_boot->store(state); !ok)
            return ok;
        crash::at("health-revert-stored");
        return settle(state, depth + 1);
    }
    return {};
}

bool Agent::runHealthCheck(SlotId slot, const SlotContent& content) {
    HealthMeter health(*m_telemetry, slotName(slot), content.version);
    HealthCheckSpec builtin;
    builtin.dataDir = m_config.dataDir;
    builtin.minFreeBytes = m_config.healthMinFreeBytes;
    builtin.tcpTargets = m_config.healthTcpTargets;
    builtin.timeout = std::chrono::seconds(std::min(m_config.healthTimeoutSeconds, 10));
    const QList<HealthCheckResult> checks = runBuiltinHealthChecks(builtin);
    for (const HealthCheckResult& check : checks) {
        if (check.ok)
            qCInfo(lcAgent).noquote() << "health check" << check.name << "passed:" << check.detail;
        else
            qCWarning(lcAgent).noquote()
                << "health check" << check.name << "FAILED:" << check.detail;
    }
    if (!allHealthy(checks))
        return false;
    if (m_config.healthCommand.isEmpty()) {
        health.finished(true, 0);
        return true;
    }
    HealthCommandSpec command;
    command.commandLine = m_config.healthCommand;
    command.timeout = std::chrono::seconds(m_config.healthTimeoutSeconds);
    command.environment = {{QStringLiteral("OTAFLEET_SLOT"), slotName(slot)},
                           {QStringLiteral("OTAFLEET_SLOT_PATH"), m_slots.slotPath(slot)},
                           {QStringLiteral("OTAFLEET_VERSION"), content.version}};
    const HealthCommandResult result = runHealthCommand(command);
    if (result.timedOut)
        health.timedOut();
    health.finished(result.ok, result.exitCode);
    return result.ok;
}

AgentReport Agent::report() const {
    std::lock_guard lock(m_mutex);
    AgentReport r;
    r.activeSlot = slotName(m_booted);
    r.trial = m_state.trial && m_state.primary == m_booted;
    r.triesLeft = m_state.triesLeft;
    r.storedSecurityVersion = m_state.securityVersion;
    r.healthOk = m_healthOk;
    r.lastError = m_lastError;
    r.bootCount = m_state.bootCount;
    if (m_installing)
        r.state = QStringLiteral("installing");
    else if (m_receiving > 0)
        r.state = QStringLiteral("receiving");
    else if (!m_bootable)
        r.state = QStringLiteral("error");
    else if (m_state.primary != m_booted)
        r.state = QStringLiteral("pending-reboot");
    else if (r.trial)
        r.state = QStringLiteral("trial");
    else if (m_reverted)
        r.state = QStringLiteral("reverted");
    else
        r.state = QStringLiteral("idle");
    for (SlotId slot : {SlotId::A, SlotId::B}) {
        SlotReport s;
        s.name = slotName(slot);
        const SlotStatus status = m_state.status(slot);
        if (status == SlotStatus::Good) {
            if (auto c = m_slots.describe(slot))
                s.content = *c;
        }
        if (status == SlotStatus::Empty)
            s.state = QStringLiteral("empty");
        else if (status == SlotStatus::Bad)
            s.state = QStringLiteral("bad");
        else if (slot == m_booted && m_bootable)
            s.state = r.trial ? QStringLiteral("trial") : QStringLiteral("active");
        else if (slot == m_state.primary)
            s.state = QStringLiteral("pending");
        else
            s.state = QStringLiteral("inactive");
        r.slots << s;
    }
    return r;
}

Result<UploadProgress> Agent::uploadProgress(const QString& transferId) const {
    return m_uploads.progress(transferId);
}

Result<UploadProgress> Agent::uploadChunk(const QString& transferId, quint64 totalSize,
                                          quint64 offset, QByteArrayView data) {
    return m_uploads.append(transferId, totalSize, offset, data);
}

void Agent::setReceiving(bool receiving) {
    std::lock_guard lock(m_mutex);
    m_receiving += receiving ? 1 : -1;
}

Status Agent::finishUpload(const QString& transferId) {
    m_uploads.release(transferId);
    return {};
}

QString Agent::stagedBundlePath(const QString& transferId) const {
    return m_uploads.partPath(transferId);
}

void Agent::discardUpload(const QString& transferId) {
    m_uploads.remove(transferId);
}

std::unexpected<Error> Agent::stagingDamaged(const QString& transferId) {
    m_uploads.remove(transferId);
    return fail(QStringLiteral("agent.staging-damaged"),
                QStringLiteral("The agent's staged copy of bundle %1 changed on its disk (a power "
                               "cut before it was written out, or another program) and no longer "
                               "matches its signed manifest; it was discarded and nothing was "
                               "installed. Push the bundle again.")
                    .arg(transferId));
}

std::unexpected<Error> Agent::busy() {
    return fail(QStringLiteral("agent.busy"),
                QStringLiteral("Another install, commit or rollback is running; wait for it to "
                               "finish and try again."));
}

Agent::~Agent() {
    // An install whose client went away runs on a detached thread; it ends before the agent.
    std::lock_guard op(m_operation);
}

Status Agent::install(const QString& transferId,
                      const std::function<void(const InstallEvent&)>& progress,
                      PendingRelease pending) {
    std::unique_lock op(m_operation, std::try_to_lock);
    if (!op.owns_lock())
        return busy();
    {
        std::lock_guard lock(m_mutex);
        m_installing = true;
    }
    m_uploads.pin(transferId);
    InstallMeter meter(*m_telemetry, transferId);
    Status result = installLocked(transferId, meter.wrap(progress), pending);
    meter.finish(result);
    m_uploads.unpin(transferId);
    if (!result && (result.error().code.startsWith(u"bundle.") ||
                    result.error().code.startsWith(u"crypto."))) {
        // A refused bundle stays refused; keeping it would only hold disk space.
        m_uploads.remove(transferId);
    }
    std::lock_guard lock(m_mutex);
    m_installing = false;
    if (!result)
        setError(result.error());
    return result;
}

Status Agent::installLocked(const QString& transferId,
                            const std::function<void(const InstallEvent&)>& progress,
                            PendingRelease pending) {
    auto upload = m_uploads.progress(transferId);
    if (!upload)
        return fail(upload.error());
    if (upload->received == 0) {
        return fail(QStringLiteral("agent.upload-missing"),
                    QStringLiteral("No bundle with transfer id %1 has been uploaded; upload it "
                                   "first.")
                        .arg(transferId));
    }
    if (!upload->complete()) {
        return fail(QStringLiteral("agent.upload-incomplete"),
                    QStringLiteral("The agent holds %1 of %2 bytes of transfer %3; finish the "
                                   "upload before installing.")
                        .arg(upload->received)
                        .arg(upload->total)
                        .arg(transferId));
    }
    BootState state;
    SlotId target;
    {
        std::lock_guard lock(m_mutex);
        if (m_state.trial && m_state.primary == m_booted) {
            if (pending == PendingRelease::Replace) {
                return fail(QStringLiteral("agent.trial-running"),
                            QStringLiteral("The device runs slot %1 on trial; commit it, or roll "
                                           "back with a reboot, before installing another "
                                           "release.")
                                .arg(slotName(m_booted)));
            }
            return fail(QStringLiteral("agent.reboot-pending"),
                        QStringLiteral("An installed update or a rollback waits for a reboot or a "
                                       "commit; finish it before installing again."));
        }
        if (m_state.primary != m_booted && pending == PendingRelease::Keep) {
            return fail(QStringLiteral("agent.reboot-pending"),
                        QStringLiteral("An installed update or a rollback waits for a reboot; "
                                       "reboot first, or install with replace-pending "
                                       "(otafleetctl device push --replace-pending) to discard "
                                       "it."));
        }
        state = m_state;
        target = otherSlot(m_booted);
    }
    // With two slots the pending primary is the target: discarding it points the device back
    // at the slot it runs. Stored below together with the target marked bad, so a refusal before
    // that leaves the pending update in place and no crash leaves a half-written primary.
    if (state.primary == target) {
        state.primary = otherSlot(target);
        state.trial = false;
        state.triesLeft = 0;
    }
    const QString slot = slotName(target);

    // Opened first: the raw copy into the slot reads this descriptor, and nothing it reads may
    // differ from what the checks below read.
    auto staged = m_uploads.openStaged(transferId);
    if (!staged)
        return fail(staged.error());
    auto reader = bundle::BundleReader::open(m_uploads.partPath(transferId));
    if (!reader)
        return fail(reader.error());
    bundle::VerifyPolicy policy;
    policy.trust = m_trust;
    policy.hardware = m_config.hardware;
    policy.minSecurityVersion = state.securityVersion;
    policy.threshold = m_config.signersRequired;
    if (auto v = SemVer::parse(agentVersion()))
        policy.agentVersion = *v;
    auto verified = bundle::BundleVerifier::verifyMetadata(*reader, policy);
    if (!verified)
        return fail(verified.error());
    const bundle::Manifest& manifest = verified->manifest;
    const QString version = manifest.version.toString();
    if (manifest.payloads.size() != 1) {
        return fail(QStringLiteral("agent.unsupported-payload"),
                    QStringLiteral("This agent installs bundles with exactly one payload; "
                                   "version %1 has %2.")
                        .arg(version)
                        .arg(manifest.payloads.size()));
    }
    const bundle::PayloadEntry& payload = manifest.payloads.first();
    if (payload.encoding == bundle::Encoding::ZstdPatch) {
        // A delta must fit the running image; refused here, before any byte is written.
        auto active = m_slots.describe(otherSlot(target));
        if (!active)
            return fail(active.error());
        if (auto ok = PayloadWriter::checkBase(payload, *active); !ok)
            return ok;
    }
    const quint64 size = payload.size;
    if (m_config.slotSize > 0 && payload.targetSize > m_config.slotSize) {
        return fail(QStringLiteral("agent.slot-too-small"),
                    QStringLiteral("The payload has %1 bytes but a slot holds %2.")
                        .arg(payload.targetSize)
                        .arg(m_config.slotSize));
    }
    if (auto capacity = m_slots.blockCapacity(target);
        capacity && *capacity > 0 && payload.targetSize > *capacity) {
        return fail(QStringLiteral("agent.slot-too-small"),
                    QStringLiteral("The payload has %1 bytes but the slot device %2 holds %3.")
                        .arg(payload.targetSize)
                        .arg(m_slots.slotPath(target))
                        .arg(*capacity));
    }
    if (progress)
        progress(InstallEvent{InstallPhase::Verifying, 0, qint64(size), version, slot});

    // The whole payload is hash-checked before the first slot byte is written, so a corrupted
    // bundle is refused with both slots and the boot state untouched: from the hash taken while
    // it arrived when the staged file is unchanged since, else from the staged file.
    const qint64 payloadStart = reader->payloadOffset(0);
    NullSink nullSink;
    const auto received = m_uploads.receivedPayloadDigest(*staged, transferId, payloadStart);
    if (received && qint64(size) == reader->fileSize() - payloadStart) {
        if (*received != payload.sha256) {
            return fail(QStringLiteral("bundle.payload-corrupted"),
                        QStringLiteral("Payload '%1' does not match the SHA-256 its signed "
                                       "manifest declares: it was damaged or swapped. Discard "
                                       "what was written and fetch the bundle again.")
                            .arg(payload.name));
        }
        if (progress)
            progress(
                InstallEvent{InstallPhase::Verifying, qint64(size), qint64(size), version, slot});
    } else if (auto ok = bundle::BundleVerifier::streamPayload(
                   *reader, 0, nullSink,
                   throttled(InstallPhase::Verifying, version, slot, progress));
               !ok) {
        // Staged (at least partly) before this agent started, and never fsynced: a power cut
        // may have cost its tail, so a wrong hash here is not the bundle's verdict. The copy goes
        // and the next push sends it again, which hashes it as it arrives.
        if (ok.error().code == u"bundle.payload-corrupted")
            return stagingDamaged(transferId);
        return ok;
    }

    // From here on the target slot changes: it is marked bad before its first byte is written
    // so that no crash can leave a half-written slot looking bootable.
    crash::at("install-verified");
    state.setStatus(target, SlotStatus::Bad);
    if (auto ok = m_boot->store(state); !ok)
        return ok;
    crash::at("install-slot-marked-bad");
    {
        std::lock_guard lock(m_mutex);
        m_state = state;
    }
    if (auto ok = PayloadWriter::write(m_slots, target, otherSlot(target), *reader, 0, staged->fd(),
                                       throttled(InstallPhase::Writing, version, slot, progress));
        !ok) {
        return ok;
    }
    // The slot holds what was checked only if the staged file did not change meanwhile (the slot
    // stays marked bad otherwise).
    if (!staged->unchanged())
        return stagingDamaged(transferId);
    if (progress)
        progress(InstallEvent{InstallPhase::Finalizing, qint64(size), qint64(size), version, slot});
    if (auto ok = m_slots.storeManifest(target, reader->manifestBytes(), reader->signature());
        !ok) {
        return ok;
    }
    boot::startTrial(state, target, m_config.trialTries);
    if (auto ok = m_boot->store(state); !ok)
        return ok;
    crash::at("install-trial-stored");
    {
        std::lock_guard lock(m_mutex);
        m_state = state;
        m_lastError.reset();
    }
    m_uploads.remove(transferId);
    qCInfo(lcAgent).noquote()
        << QStringLiteral("installed version %1 into slot %2; pending reboot").arg(version, slot);
    if (progress)
        progress(InstallEvent{InstallPhase::Done, qint64(size), qint64(size), version, slot});
    return {};
}

Status Agent::commit() {
    std::unique_lock op(m_operation, std::try_to_lock);
    if (!op.owns_lock())
        return busy();
    std::lock_guard lock(m_mutex);
    if (!m_healthOk) {
        return fail(QStringLiteral("agent.health-not-ok"),
                    QStringLiteral("The running firmware has not passed its health check, so it "
                                   "cannot be committed."));
    }
    auto content = m_slots.describe(m_booted);
    if (!content)
        return fail(content.error());
    BootState state = m_state;
    if (auto ok = boot::commit(state, m_booted, content->securityVersion); !ok)
        return ok;
    if (auto ok = m_boot->store(state); !ok)
        return ok;
    crash::at("commit-stored");
    m_state = state;
    m_reverted = false;
    m_lastError.reset();
    qCInfo(lcAgent).noquote() << "committed slot" << slotName(m_booted);
    m_telemetry->milestone(v1::EVENT_PHASE_COMMIT, content->version, slotName(m_booted));
    return {};
}

Status Agent::rollback() {
    std::unique_lock op(m_operation, std::try_to_lock);
    if (!op.owns_lock())
        return busy();
    // m_operation keeps every other writer of the boot state out, so the snapshot stays current
    // while the other slot is hashed without m_mutex (GetInfo must not wait for that).
    BootState state;
    SlotId booted;
    {
        std::lock_guard lock(m_mutex);
        state = m_state;
        booted = m_booted;
    }
    const SlotId other = otherSlot(booted);
    if (state.status(other) == SlotStatus::Good) {
        // The other slot is checked now, not only at the next boot, so a rollback never
        // points the device at firmware that would be refused.
        auto content = verifyBootable(m_slots, m_trust, other, state.securityVersion);
        if (!content)
            return fail(content.error());
    }
    if (auto ok = boot::rollback(state, booted); !ok)
        return ok;
    if (auto ok = m_boot->store(state); !ok)
        return ok;
    crash::at("rollback-stored");
    {
        std::lock_guard lock(m_mutex);
        m_state = state;
    }
    qCInfo(lcAgent).noquote() << "rollback: slot" << slotName(other) << "is primary";
    m_telemetry->milestone(v1::EVENT_PHASE_ROLLBACK, {}, slotName(other));
    return {};
}

}  // namespace otafleet::agent
