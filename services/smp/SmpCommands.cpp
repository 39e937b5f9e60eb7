#include "smp/SmpCommands.h"

#include "smp/SmpError.h"

#include <QCborArray>
#include <QCborValue>

namespace otafleet::smp {
namespace {

Error badResponse(const QString& what) {
    return Error{QStringLiteral("smp.bad-response"),
                 QStringLiteral("The device's response is not what SMP specifies (%1); check "
                                "the device's MCUmgr version.")
                     .arg(what)};
}

QString key(const char* name) {
    return QString::fromLatin1(name);
}

Result<qint64> unsignedField(const QCborMap& body, const char* name) {
    const QCborValue value = body.value(key(name));
    if (!value.isInteger() || value.toInteger() < 0) {
        return fail(badResponse(
            QStringLiteral("\"%1\" is missing or not an unsigned integer").arg(key(name))));
    }
    return value.toInteger();
}

}  // namespace

Result<QByteArray> encodeRequest(const Request& request, Version version, quint8 sequence) {
    Header header;
    header.op = request.op;
    header.version = version;
    header.group = request.group;
    header.command = request.command;
    header.sequence = sequence;
    return encodePacket(header, request.body);
}

namespace os {

Request echo(const QString& text) {
    return Request{Op::Write, kGroupOs, kEcho, QCborMap{{key("d"), text}}};
}

Request reset(bool force) {
    QCborMap body;
    if (force) {
        body.insert(key("force"), 1);
    }
    return Request{Op::Write, kGroupOs, kReset, body};
}

Request mcumgrParameters() {
    return Request{Op::Read, kGroupOs, kMcumgrParameters, {}};
}

Request bootloaderInfo(const QString& query) {
    QCborMap body;
    if (!query.isEmpty()) {
        body.insert(key("query"), query);
    }
    return Request{Op::Read, kGroupOs, kBootloaderInfo, body};
}

Result<QString> parseEcho(const QCborMap& body) {
    if (const Status status = checkResponse(body); !status) {
        return fail(status.error());
    }
    const QCborValue text = body.value(key("r"));
    if (!text.isString()) {
        return fail(badResponse(QStringLiteral("echo without \"r\"")));
    }
    return text.toString();
}

Result<McumgrParameters> parseMcumgrParameters(const QCborMap& body) {
    if (const Status status = checkResponse(body); !status) {
        return fail(status.error());
    }
    const auto size = unsignedField(body, "buf_size");
    const auto count = unsignedField(body, "buf_count");
    if (!size || !count) {
        return fail(!size ? size.error() : count.error());
    }
    return McumgrParameters{*size, *count};
}

Result<QString> parseBootloaderInfo(const QCborMap& body) {
    if (const Status status = checkResponse(body); !status) {
        return fail(status.error());
    }
    const QCborValue name = body.value(key("bootloader"));
    if (!name.isString()) {
        return fail(badResponse(QStringLiteral("bootloader information without \"bootloader\"")));
    }
    return name.toString();
}

}  // namespace os

namespace image {

Request stateRead() {
    return Request{Op::Read, kGroupImage, kState, {}};
}

Request stateWrite(const QByteArray& hash, bool confirm) {
    QCborMap body;
    if (!hash.isEmpty()) {
        body.insert(key("hash"), hash);
    }
    body.insert(key("confirm"), confirm);
    return Request{Op::Write, kGroupImage, kState, body};
}

Request upload(const UploadChunk& chunk) {
    QCborMap body;
    if (chunk.offset == 0) {
        if (chunk.image != 0) {
            body.insert(key("image"), chunk.image);
        }
        body.insert(key("len"), chunk.totalLength);
    }
    body.insert(key("off"), chunk.offset);
    if (chunk.offset == 0 && !chunk.sha.isEmpty()) {
        body.insert(key("sha"), chunk.sha);
    }
    body.insert(key("data"), chunk.data);
    if (chunk.offset == 0 && chunk.upgradeOnly) {
        body.insert(key("upgrade"), true);
    }
    return Request{Op::Write, kGroupImage, kUpload, body};
}

Request erase(std::optional<int> slot) {
    QCborMap body;
    if (slot) {
        body.insert(key("slot"), *slot);
    }
    return Request{Op::Write, kGroupImage, kErase, body};
}

Result<QList<SlotState>> parseState(const QCborMap& body) {
    if (const Status status = checkResponse(body); !status) {
        return fail(status.error());
    }
    const QCborValue images = body.value(key("images"));
    if (!images.isArray()) {
        return fail(badResponse(QStringLiteral("image state without \"images\"")));
    }
    QList<SlotState> out;
    for (const QCborValue& entry : images.toArray()) {
        if (!entry.isMap()) {
            return fail(badResponse(QStringLiteral("an image entry is not a map")));
        }
        const QCborMap map = entry.toMap();
        const auto slot = unsignedField(map, "slot");
        if (!slot) {
            return fail(slot.error());
        }
        SlotState state;
        state.slot = int(*slot);
        state.image = int(map.value(key("image")).toInteger(0));
        state.version = map.value(key("version")).toString();
        state.hash = map.value(key("hash")).toByteArray();
        state.bootable = map.value(key("bootable")).toBool(false);
        state.pending = map.value(key("pending")).toBool(false);
        state.confirmed = map.value(key("confirmed")).toBool(false);
        state.active = map.value(key("active")).toBool(false);
        state.permanent = map.value(key("permanent")).toBool(false);
        out.append(state);
    }
    return out;
}

Result<UploadResult> parseUpload(const QCborMap& body) {
    if (const Status status = checkResponse(body); !status) {
        return fail(status.error());
    }
    const auto offset = unsignedField(body, "off");
    if (!offset) {
        return fail(offset.error());
    }
    UploadResult result{*offset, std::nullopt};
    const QCborValue match = body.value(key("match"));
    if (match.isBool()) {
        result.match = match.toBool();
    }
    return result;
}

qint64 uploadOverhead(const UploadChunk& chunkWithoutData) {
    constexpr qint64 kByteStringHeaderMax = 5;  // major type 2 with a 32-bit length
    return kHeaderSize + upload(chunkWithoutData).body.toCborValue().toCbor().size() +
           kByteStringHeaderMax;
}

}  // namespace image
}  // namespace otafleet::smp
