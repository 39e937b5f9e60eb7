// Telemetry events of an agent: GetEvents/AckEvents and the flattening of each Event into JSON.
// The flattening walks the message by reflection, so a field added to the proto shows up in
// `device events --json` without touching this file.
#include "AgentClientPrivate.h"

#include <QDateTime>

#include <google/protobuf/descriptor.h>

namespace otafleet::agentclient {
namespace {

namespace gp = google::protobuf;

// "EventPhase" -> "EVENT_PHASE_", the prefix protobuf style puts on every value.
QString enumPrefix(const gp::EnumDescriptor* e) {
    QString prefix;
    const QString name = QString::fromStdString(e->name());
    for (qsizetype i = 0; i < name.size(); ++i) {
        if (i > 0 && name[i].isUpper())
            prefix += u'_';
        prefix += name[i].toUpper();
    }
    return prefix + u'_';
}

// EVENT_PHASE_UPLOAD_COMPLETED -> "upload-completed"
QString enumName(const gp::EnumValueDescriptor* value) {
    QString name = QString::fromStdString(value->name());
    const QString prefix = enumPrefix(value->type());
    if (name.startsWith(prefix))
        name = name.mid(prefix.size());
    return name.toLower().replace(u'_', u'-');
}

QJsonValue fieldValue(const gp::Message& m, const gp::FieldDescriptor* f) {
    const gp::Reflection* r = m.GetReflection();
    switch (f->cpp_type()) {
        case gp::FieldDescriptor::CPPTYPE_INT32:
            return r->GetInt32(m, f);
        case gp::FieldDescriptor::CPPTYPE_INT64:
            return double(r->GetInt64(m, f));
        case gp::FieldDescriptor::CPPTYPE_UINT32:
            return double(r->GetUInt32(m, f));
        case gp::FieldDescriptor::CPPTYPE_UINT64:
            return double(r->GetUInt64(m, f));
        case gp::FieldDescriptor::CPPTYPE_DOUBLE:
            return r->GetDouble(m, f);
        case gp::FieldDescriptor::CPPTYPE_FLOAT:
            return double(r->GetFloat(m, f));
        case gp::FieldDescriptor::CPPTYPE_BOOL:
            return r->GetBool(m, f);
        case gp::FieldDescriptor::CPPTYPE_ENUM:
            return enumName(r->GetEnum(m, f));
        case gp::FieldDescriptor::CPPTYPE_STRING:
            return QString::fromStdString(r->GetString(m, f));
        case gp::FieldDescriptor::CPPTYPE_MESSAGE:
            break;
    }
    return QJsonValue::Null;  // events hold no nested or repeated fields below their kind
}

QString isoTime(qint64 unixMs) {
    return QDateTime::fromMSecsSinceEpoch(unixMs, Qt::UTC).toString(Qt::ISODateWithMs);
}

AgentEvent toEvent(const pb::Event& e) {
    AgentEvent event;
    event.seq = e.seq();
    event.timeUnixMs = e.time_unix_ms();
    const gp::OneofDescriptor* kind = e.GetDescriptor()->FindOneofByName("kind");
    const gp::FieldDescriptor* set = e.GetReflection()->GetOneofFieldDescriptor(e, kind);
    if (!set) {
        event.type = QStringLiteral("unknown");  // from a newer agent
        return event;
    }
    event.type = QString::fromStdString(set->name());
    const gp::Message& body = e.GetReflection()->GetMessage(e, set);
    const gp::Descriptor* d = body.GetDescriptor();
    for (int i = 0; i < d->field_count(); ++i) {
        const gp::FieldDescriptor* f = d->field(i);
        if (!f->is_repeated())
            event.fields.insert(QString::fromStdString(f->name()), fieldValue(body, f));
    }
    return event;
}

}  // namespace

QJsonObject AgentEvent::toJson() const {
    QJsonObject o = fields;
    o.insert(QStringLiteral("seq"), double(seq));
    o.insert(QStringLiteral("time"), isoTime(timeUnixMs));
    o.insert(QStringLiteral("type"), type);
    return o;
}

QString AgentEvent::describe() const {
    QString text =
        QStringLiteral("#%1  %2  %3")
            .arg(seq)
            .arg(isoTime(timeUnixMs),
                 type == u"phase" ? fields.value(QStringLiteral("phase")).toString() : type);
    // Only what is set: a commit has no byte counts, a boot no error code.
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (it.key() == u"phase")
            continue;
        const QJsonValue v = it.value();
        QString shown;
        if (v.isString() && !v.toString().isEmpty())
            shown = v.toString();
        else if (v.isBool())
            shown = v.toBool() ? QStringLiteral("yes") : QStringLiteral("no");
        else if (v.isDouble() && v.toDouble() != 0)
            shown =
                QString::number(v.toDouble(), 'f', v.toDouble() == qint64(v.toDouble()) ? 0 : 2);
        if (!shown.isEmpty())
            text += QStringLiteral("  %1=%2").arg(it.key(), shown);
    }
    return text;
}

Result<AgentEventBatch> AgentClient::events(quint64 afterSeq, quint32 max) {
    Impl::Call call(*d, kShortCall);
    pb::GetEventsRequest request;
    request.set_after_seq(afterSeq);
    request.set_max(max);
    pb::EventBatch reply;
    const grpc::Status status = d->stub->GetEvents(&call.context, request, &reply);
    if (!status.ok())
        return fail(d->toError(status));
    AgentEventBatch batch;
    for (const pb::Event& e : reply.events())
        batch.events << toEvent(e);
    batch.droppedTotal = reply.dropped_total();
    batch.lastSeq = reply.last_seq();
    batch.ackedSeq = reply.acked_seq();
    batch.more = reply.more();
    return batch;
}

Result<AgentEventAck> AgentClient::ackEvents(quint64 upToSeq) {
    Impl::Call call(*d, kShortCall);
    pb::AckEventsRequest request;
    request.set_up_to_seq(upToSeq);
    pb::AckEventsReply reply;
    const grpc::Status status = d->stub->AckEvents(&call.context, request, &reply);
    if (!status.ok())
        return fail(d->toError(status));
    return AgentEventAck{reply.acked_seq(), reply.pending()};
}

}  // namespace otafleet::agentclient
