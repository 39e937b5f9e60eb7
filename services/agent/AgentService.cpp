#include "agent/AgentService.h"

#include "agent/Logging.h"
#include "agent/Telemetry.h"

#include <grpc/grpc_security_constants.h>

#include <condition_variable>
#include <deque>
#include <thread>

namespace otafleet::agent {
namespace {

namespace pb = otafleet::agent::v1;

grpc::StatusCode statusCodeFor(const QString& code) {
    if (code.startsWith(u"bundle.") || code.startsWith(u"crypto.") ||
        code == u"agent.invalid-transfer-id" || code == u"agent.chunk-too-large" ||
        code == u"agent.unsupported-payload" || code == u"agent.upload-too-long") {
        return grpc::StatusCode::INVALID_ARGUMENT;
    }
    if (code == u"agent.busy")
        return grpc::StatusCode::ABORTED;
    if (code == u"agent.disk-full" || code == u"agent.bundle-too-large" ||
        code == u"agent.slot-too-small") {
        return grpc::StatusCode::RESOURCE_EXHAUSTED;
    }
    if (code.startsWith(u"io.") || code == u"agent.slot-write-failed")
        return grpc::StatusCode::INTERNAL;
    return grpc::StatusCode::FAILED_PRECONDITION;
}

pb::SlotState slotStateFor(const QString& s) {
    if (s == u"active")
        return pb::SLOT_STATE_ACTIVE;
    if (s == u"inactive")
        return pb::SLOT_STATE_INACTIVE;
    if (s == u"trial")
        return pb::SLOT_STATE_TRIAL;
    if (s == u"pending")
        return pb::SLOT_STATE_PENDING;
    if (s == u"bad")
        return pb::SLOT_STATE_BAD;
    return pb::SLOT_STATE_EMPTY;
}

pb::DeviceState deviceStateFor(const QString& s) {
    if (s == u"receiving")
        return pb::DEVICE_STATE_RECEIVING;
    if (s == u"installing")
        return pb::DEVICE_STATE_INSTALLING;
    if (s == u"pending-reboot")
        return pb::DEVICE_STATE_PENDING_REBOOT;
    if (s == u"trial")
        return pb::DEVICE_STATE_TRIAL;
    if (s == u"reverted")
        return pb::DEVICE_STATE_REVERTED;
    if (s == u"error")
        return pb::DEVICE_STATE_ERROR;
    return pb::DEVICE_STATE_IDLE;
}

std::string str(const QString& s) {
    return s.toStdString();
}

void fillUploadStatus(const QString& id, const UploadProgress& p, pb::UploadStatus* out) {
    out->set_transfer_id(str(id));
    out->set_received(p.received);
    out->set_total_size(p.total);
    out->set_complete(p.complete());
}

grpc::ServerUnaryReactor* finishWith(grpc::CallbackServerContext* context, grpc::Status status) {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(std::move(status));
    return reactor;
}

// Client stream of chunks: each is appended as it arrives; the first one that does not fit
// (wrong offset, too large) ends the call with the offset the client must resume from.
class UploadReactor final : public grpc::ServerReadReactor<pb::UploadChunk> {
public:
    UploadReactor(Agent& agent, pb::UploadStatus* reply)
        : m_agent(agent), m_reply(reply), m_meter(agent.telemetry()) {
        m_agent.setReceiving(true);
        StartRead(&m_chunk);
    }
    void OnReadDone(bool ok) override {
        if (!ok) {  // client finished sending
            finish(m_id.isEmpty() ? Status{} : m_agent.finishUpload(m_id));
            return;
        }
        const QString id = QString::fromStdString(m_chunk.transfer_id());
        if (m_id.isEmpty())
            m_id = id;
        if (id != m_id) {
            finish(fail(QStringLiteral("agent.upload-protocol"),
                        QStringLiteral("All chunks of one upload must name the same transfer.")));
            return;
        }
        const std::string& data = m_chunk.data();
        auto progress = m_agent.uploadChunk(id, m_chunk.total_size(), m_chunk.offset(),
                                            QByteArrayView(data.data(), qsizetype(data.size())));
        if (!progress) {
            finish(fail(progress.error()));
            return;
        }
        m_last = *progress;
        m_meter.chunk(id, m_chunk.offset(), data.size(), *progress);
        StartRead(&m_chunk);
    }
    void OnDone() override {
        m_agent.setReceiving(false);
        delete this;
    }

private:
    void finish(const Status& result) {
        if (!m_id.isEmpty()) {
            if (auto p = m_agent.uploadProgress(m_id))
                m_last = *p;
            fillUploadStatus(m_id, m_last, m_reply);
        }
        m_meter.end(result);
        Finish(result ? grpc::Status::OK : toGrpcStatus(result.error()));
    }
    Agent& m_agent;
    pb::UploadStatus* m_reply;
    pb::UploadChunk m_chunk;
    QString m_id;
    UploadProgress m_last;
    UploadMeter m_meter;
};

// Server stream of install progress: the install runs on its own thread (it must complete even
// if the client goes away); events are queued and written one at a time, in order. The Agent
// outlives a detached worker: ~Agent waits for the running install.
class InstallReactor final : public grpc::ServerWriteReactor<pb::InstallProgress> {
public:
    InstallReactor(Agent& agent, QString transferId, PendingRelease pending) {
        m_worker = std::thread([this, &agent, id = std::move(transferId), pending] {
            const Status result = agent.install(
                id, [this](const InstallEvent& e) { push(e); }, pending);
            bool deleteSelf = false;
            {
                std::lock_guard lock(m_mutex);
                m_result = result;
                m_finished = true;
                if (!result) {
                    pb::InstallProgress failed;
                    failed.set_phase(pb::INSTALL_PHASE_FAILED);
                    failed.set_error_code(str(result.error().code));
                    failed.set_error_message(str(result.error().message));
                    m_queue.push_back(failed);
                }
                next();
                m_workerDone = true;
                deleteSelf = m_done;
            }
            // OnDone already ran and detached this thread: the reactor is ours to free.
            if (deleteSelf)
                delete this;
        });
    }
    void OnWriteDone(bool ok) override {
        std::lock_guard lock(m_mutex);
        m_writing = false;
        if (!ok) {
            m_clientGone = true;
            if (!m_finishCalled) {
                m_finishCalled = true;
                Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
            }
            return;
        }
        next();
    }
    // Runs on a gRPC thread, which must not wait minutes for an install whose client went
    // away: a still-running worker is detached and frees the reactor when it ends.
    void OnDone() override {
        {
            std::lock_guard lock(m_mutex);
            m_done = true;
            if (!m_workerDone) {
                m_worker.detach();
                return;
            }
        }
        m_worker.join();
        delete this;
    }

private:
    void push(const InstallEvent& e) {
        pb::InstallProgress p;
        switch (e.phase) {
            case InstallPhase::Verifying:
                p.set_phase(pb::INSTALL_PHASE_VERIFYING);
                break;
            case InstallPhase::Writing:
                p.set_phase(pb::INSTALL_PHASE_WRITING);
                break;
            case InstallPhase::Finalizing:
                p.set_phase(pb::INSTALL_PHASE_FINALIZING);
                break;
            case InstallPhase::Done:
                p.set_phase(pb::INSTALL_PHASE_DONE);
                break;
        }
        p.set_done(quint64(e.done));
        p.set_total(quint64(e.total));
        p.set_version(str(e.version));
        p.set_slot(str(e.slot));
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(p));
        next();
    }
    // Called with m_mutex held.
    void next() {
        if (m_writing || m_finishCalled || m_clientGone)
            return;
        if (!m_queue.empty()) {
            m_current = std::move(m_queue.front());
            m_queue.pop_front();
            m_writing = true;
            StartWrite(&m_current);
            return;
        }
        if (m_finished) {
            m_finishCalled = true;
            Finish(m_result ? grpc::Status::OK : toGrpcStatus(m_result.error()));
        }
    }

    std::mutex m_mutex;
    std::deque<pb::InstallProgress> m_queue;
    pb::InstallProgress m_current;
    bool m_writing = false;
    bool m_finished = false;
    bool m_finishCalled = false;
    bool m_clientGone = false;
    bool m_done = false;        // OnDone ran
    bool m_workerDone = false;  // the worker touches nothing of the reactor after this
    Status m_result;
    std::thread m_worker;
};

// Ends a streaming call at once (a refused caller).
template <class Base>
class RejectReactor final : public Base {
public:
    explicit RejectReactor(grpc::Status status) { this->Finish(std::move(status)); }
    void OnDone() override { delete this; }
};

class RebootReactor final : public grpc::ServerUnaryReactor {
public:
    explicit RebootReactor(std::function<void()> onDone) : m_onDone(std::move(onDone)) {
        Finish(grpc::Status::OK);
    }
    void OnDone() override {
        if (m_onDone)
            m_onDone();
        delete this;
    }

private:
    std::function<void()> m_onDone;
};

}  // namespace

grpc::Status toGrpcStatus(const Error& error) {
    return grpc::Status(statusCodeFor(error.code), str(error.message), str(error.code));
}

void fillDeviceInfo(const Agent& agent, pb::DeviceInfo* info) {
    const AgentConfig& config = agent.config();
    const AgentReport r = agent.report();
    info->set_device_id(str(config.deviceId));
    info->set_name(str(config.name));
    info->set_model(str(config.model));
    info->set_hardware(str(config.hardware));
    info->set_agent_version(str(agentVersion()));
    info->set_active_slot(str(r.activeSlot));
    info->set_trial(r.trial);
    info->set_tries_left(quint32(r.triesLeft));
    info->set_stored_security_version(r.storedSecurityVersion);
    info->set_state(deviceStateFor(r.state));
    info->set_health_ok(r.healthOk);
    if (r.lastError) {
        info->set_last_error_code(str(r.lastError->code));
        info->set_last_error_message(str(r.lastError->message));
    }
    info->set_boot_count(r.bootCount);
    for (const SlotReport& s : r.slots) {
        pb::Slot* slot = info->add_slots();
        slot->set_name(str(s.name));
        slot->set_state(slotStateFor(s.state));
        if (s.content) {
            slot->set_version(str(s.content->version));
            slot->set_security_version(s.content->securityVersion);
            slot->set_payload_sha256(s.content->sha256.toHex().toStdString());
            slot->set_size(s.content->size);
        }
    }
}

AgentService::AgentService(Agent& agent, std::function<void()> onReboot,
                           std::optional<OperatorCheck> operators)
    : m_agent(agent), m_onReboot(std::move(onReboot)), m_operators(std::move(operators)) {}

grpc::Status AgentService::checkOperator(const grpc::CallbackServerContext* context) const {
    if (!m_operators)
        return grpc::Status::OK;
    const auto auth = context->auth_context();
    const auto pems = auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
                           : std::vector<grpc::string_ref>{};
    Status verdict = fail(QStringLiteral("agent.not-an-operator"),
                          QStringLiteral("This agent accepts only operator certificates issued by "
                                         "the fleet's operator CA."));
    if (!pems.empty()) {
        verdict =
            m_operators->check(QByteArrayView(pems.front().data(), qsizetype(pems.front().size())));
    }
    if (verdict)
        return grpc::Status::OK;
    qCWarning(lcAgent).noquote() << "refused a client:" << verdict.error().code;
    return toGrpcStatus(verdict.error());
}

grpc::ServerUnaryReactor* AgentService::GetInfo(grpc::CallbackServerContext* context,
                                                const pb::GetInfoRequest*, pb::DeviceInfo* reply) {
    if (auto denied = checkOperator(context); !denied.ok())
        return finishWith(context, denied);
    fillDeviceInfo(m_agent, reply);
    return finishWith(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AgentService::GetUploadOffset(grpc::CallbackServerContext* context,
                                                        const pb::UploadOffsetRequest* request,
                                                        pb::UploadStatus* reply) {
    if (auto denied = checkOperator(context); !denied.ok())
        return finishWith(context, denied);
    const QString id = QString::fromStdString(request->transfer_id());
    auto progress = m_agent.uploadProgress(id);
    if (!progress)
        return finishWith(context, toGrpcStatus(progress.error()));
    fillUploadStatus(id, *progress, reply);
    return finishWith(context, grpc::Status::OK);
}

grpc::ServerReadReactor<pb::UploadChunk>* AgentService::Upload(grpc::CallbackServerContext* context,
                                                               pb::UploadStatus* reply) {
    if (auto denied = checkOperator(context); !denied.ok())
        return new RejectReactor<grpc::ServerReadReactor<pb::UploadChunk>>(denied);
    return new UploadReactor(m_agent, reply);
}

grpc::ServerWriteReactor<pb::InstallProgress>* AgentService::Install(
    grpc::CallbackServerContext* context, const pb::InstallRequest* request) {
    if (auto denied = checkOperator(context); !denied.ok())
        return new RejectReactor<grpc::ServerWriteReactor<pb::InstallProgress>>(denied);
    return new InstallReactor(
        m_agent, QString::fromStdString(request->transfer_id()),
        request->replace_pending() ? PendingRelease::Replace : PendingRelease::Keep);
}

grpc::ServerUnaryReactor* AgentService::Commit(grpc::CallbackServerContext* context,
                                               const pb::CommitRequest*, pb::DeviceInfo* reply) {
    if (auto denied = checkOperator(context); !denied.ok())
        return finishWith(context, denied);
    if (auto ok = m_agent.commit(); !ok)
        return finishWith(context, toGrpcStatus(ok.error()));
    fillDeviceInfo(m_agent, reply);
    return finishWith(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AgentService::Rollback(grpc::CallbackServerContext* context,
                                                 const pb::RollbackRequest* request,
                                                 pb::DeviceInfo* reply) {
    if (auto denied = checkOperator(context); !denied.ok())
        return finishWith(context, denied);
    if (auto ok = m_agent.rollback(); !ok)
        return finishWith(context, toGrpcStatus(ok.error()));
    fillDeviceInfo(m_agent, reply);
    if (request->reboot()) {
        auto* reactor = new RebootReactor(m_onReboot);
        return reactor;
    }
    return finishWith(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AgentService::Reboot(grpc::CallbackServerContext* context,
                                               const pb::RebootRequest*, pb::RebootReply* reply) {
    if (auto denied = checkOperator(context); !denied.ok())
        return finishWith(context, denied);
    reply->set_boot_count(m_agent.report().bootCount);
    qCInfo(lcAgent) << "reboot requested";
    m_agent.telemetry().milestone(pb::EVENT_PHASE_REBOOT, {}, {}, reply->boot_count());
    return new RebootReactor(m_onReboot);
}

grpc::ServerUnaryReactor* AgentService::GetEvents(grpc::CallbackServerContext* context,
                                                  const pb::GetEventsRequest* request,
                                                  pb::EventBatch* reply) {
    if (auto denied = checkOperator(context); !denied.ok())
        return finishWith(context, denied);
    auto batch = m_agent.telemetry().batch(request->after_seq(), request->max());
    if (!batch)
        return finishWith(context, toGrpcStatus(batch.error()));
    *reply = std::move(*batch);
    return finishWith(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AgentService::AckEvents(grpc::CallbackServerContext* context,
                                                  const pb::AckEventsRequest* request,
                                                  pb::AckEventsReply* reply) {
    if (auto denied = checkOperator(context); !denied.ok())
        return finishWith(context, denied);
    auto acked = m_agent.telemetry().ack(request->up_to_seq());
    if (!acked)
        return finishWith(context, toGrpcStatus(acked.error()));
    *reply = std::move(*acked);
    return finishWith(context, grpc::Status::OK);
}

}  // namespace otafleet::agent
