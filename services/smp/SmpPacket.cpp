#include "smp/SmpPacket.h"

#include <QCborArray>
#include <QCborStreamReader>
#include <QCborValue>
#include <QtEndian>

#include <limits>

namespace otafleet::smp {
namespace {

constexpr quint8 kVersionShift = 3;
constexpr quint8 kOpMask = 0x07;
constexpr quint8 kVersionMask = 0x03;
constexpr quint8 kReservedMask = 0xe0;

Error cborError(const QString& what) {
    return Error{QStringLiteral("smp.bad-cbor"),
                 QStringLiteral("The device sent a management message whose CBOR data is not "
                                "valid (%1). Check that the device speaks MCUmgr SMP and that "
                                "the link is not corrupting data.")
                     .arg(what)};
}

// QCborValue::fromCbor has no limits of ours; this reader walks the stream itself so that depth
// and the number of items are bounded before anything is allocated for them.
class BoundedCborReader {
public:
    explicit BoundedCborReader(QByteArrayView bytes) : m_reader(bytes.data(), bytes.size()) {}

    Result<QCborValue> read(int depth) {
        if (depth > kMaxCborDepth || ++m_items > kMaxCborItems) {
            return fail(QStringLiteral("smp.cbor-too-complex"),
                        QStringLiteral("The device sent a management message nested deeper or "
                                       "holding more items than SMP ever needs; it was refused."));
        }
        switch (m_reader.type()) {
            case QCborStreamReader::UnsignedInteger: {
                const quint64 value = m_reader.toUnsignedInteger();
                if (value > quint64(std::numeric_limits<qint64>::max())) {
                    return fail(cborError(QStringLiteral("integer out of range")));
                }
                return advance(QCborValue(qint64(value)));
            }
            case QCborStreamReader::NegativeInteger: {
                const auto value = quint64(m_reader.toNegativeInteger());
                if (value > quint64(std::numeric_limits<qint64>::max())) {
                    return fail(cborError(QStringLiteral("integer out of range")));
                }
                return advance(QCborValue(-qint64(value)));
            }
            case QCborStreamReader::ByteArray:
                return readBytes();
            case QCborStreamReader::String:
                return readText();
            case QCborStreamReader::Array:
                return readArray(depth);
            case QCborStreamReader::Map:
                return readMap(depth);
            case QCborStreamReader::Tag: {
                const QCborTag tag = m_reader.toTag();
                if (!m_reader.next()) {
                    return fail(cborError(m_reader.lastError().toString()));
                }
                auto inner = read(depth + 1);
                if (!inner) {
                    return inner;
                }
                return QCborValue(tag, *inner);
            }
            case QCborStreamReader::SimpleType:
                return advance(QCborValue(m_reader.toSimpleType()));
            case QCborStreamReader::Float16:
                return advance(QCborValue(double(float(m_reader.toFloat16()))));
            case QCborStreamReader::Float:
                return advance(QCborValue(double(m_reader.toFloat())));
            case QCborStreamReader::Double:
                return advance(QCborValue(m_reader.toDouble()));
            case QCborStreamReader::Invalid:
                break;
        }
        return fail(cborError(m_reader.lastError().toString()));
    }

    [[nodiscard]] qint64 offset() const { return m_reader.currentOffset(); }
    [[nodiscard]] bool ok() { return m_reader.lastError() == QCborError::NoError; }

private:
    Result<QCborValue> advance(QCborValue value) {
        if (!m_reader.next()) {
            return fail(cborError(m_reader.lastError().toString()));
        }
        return value;
    }

    Result<QCborValue> readBytes() {
        QByteArray data;
        auto chunk = m_reader.readByteArray();
        while (chunk.status == QCborStreamReader::Ok) {
            data += chunk.data;
            chunk = m_reader.readByteArray();
        }
        if (chunk.status == QCborStreamReader::Error) {
            return fail(cborError(m_reader.lastError().toString()));
        }
        return QCborValue(data);
    }

    Result<QCborValue> readText() {
        QString text;
        auto chunk = m_reader.readString();
        while (chunk.status == QCborStreamReader::Ok) {
            text += chunk.data;
            chunk = m_reader.readString();
        }
        if (chunk.status == QCborStreamReader::Error) {
            return fail(cborError(m_reader.lastError().toString()));
        }
        return QCborValue(text);
    }

    Result<QCborValue> readArray(int depth) {
        if (!m_reader.enterContainer()) {
            return fail(cborError(m_reader.lastError().toString()));
        }
        QCborArray array;
        while (m_reader.hasNext()) {
            auto item = read(depth + 1);
            if (!item) {
                return item;
            }
            array.append(*item);
        }
        if (!ok() || !m_reader.leaveContainer()) {
            return fail(cborError(m_reader.lastError().toString()));
        }
        return QCborValue(array);
    }

    Result<QCborValue> readMap(int depth) {
        if (!m_reader.enterContainer()) {
            return fail(cborError(m_reader.lastError().toString()));
        }
        QCborMap map;
        while (m_reader.hasNext()) {
            auto key = read(depth + 1);
            if (!key) {
                return key;
            }
            if (!m_reader.hasNext()) {
                return fail(cborError(QStringLiteral("map key without a value")));
            }
            auto value = read(depth + 1);
            if (!value) {
                return value;
            }
            map.insert(*key, *value);
        }
        if (!ok() || !m_reader.leaveContainer()) {
            return fail(cborError(m_reader.lastError().toString()));
        }
        return QCborValue(map);
    }

    QCborStreamReader m_reader;
    int m_items = 0;
};

}  // namespace

bool isResponse(Op op) {
    return op == Op::ReadResponse || op == Op::WriteResponse;
}

Op responseOp(Op requestOp) {
    return requestOp == Op::Write ? Op::WriteResponse : Op::ReadResponse;
}

QByteArray encodeHeader(const Header& header) {
    QByteArray out(kHeaderSize, '\0');
    auto* p = reinterpret_cast<uchar*>(out.data());
    p[0] = uchar((quint8(header.version) << kVersionShift) | quint8(header.op));
    p[1] = header.flags;
    qToBigEndian<quint16>(header.length, p + 2);
    qToBigEndian<quint16>(header.group, p + 4);
    p[6] = header.sequence;
    p[7] = header.command;
    return out;
}

Result<Header> decodeHeader(QByteArrayView bytes) {
    if (bytes.size() < kHeaderSize) {
        return fail(QStringLiteral("smp.truncated-header"),
                    QStringLiteral("The device sent a management message shorter than the 8-byte "
                                   "SMP header; the link may have lost data."));
    }
    const auto* p = reinterpret_cast<const uchar*>(bytes.data());
    const quint8 version = (p[0] >> kVersionShift) & kVersionMask;
    if ((p[0] & kReservedMask) != 0 || version > quint8(Version::V2)) {
        return fail(QStringLiteral("smp.bad-header"),
                    QStringLiteral("The device sent a management message with reserved header "
                                   "bits set or an unknown SMP version (first byte 0x%1).")
                        .arg(p[0], 2, 16, QLatin1Char('0')));
    }
    Header header;
    header.op = Op(p[0] & kOpMask);
    if (quint8(header.op) > quint8(Op::WriteResponse)) {
        return fail(QStringLiteral("smp.bad-header"),
                    QStringLiteral("The device sent a management message with unknown operation "
                                   "%1.")
                        .arg(quint8(header.op)));
    }
    header.version = Version(version);
    header.flags = p[1];
    header.length = qFromBigEndian<quint16>(p + 2);
    header.group = qFromBigEndian<quint16>(p + 4);
    header.sequence = p[6];
    header.command = p[7];
    return header;
}

Result<QByteArray> encodePacket(Header header, const QCborMap& body) {
    const QByteArray data = body.isEmpty() ? QByteArray() : body.toCborValue().toCbor();
    if (data.size() > kMaxBodySize) {
        return fail(QStringLiteral("smp.body-too-large"),
                    QStringLiteral("A management request of %1 bytes does not fit SMP's 16-bit "
                                   "length; send less data per request.")
                        .arg(data.size()));
    }
    header.length = quint16(data.size());
    return encodeHeader(header) + data;
}

Result<QCborMap> decodeCborMap(QByteArrayView bytes) {
    if (bytes.isEmpty()) {
        return QCborMap();
    }
    BoundedCborReader reader(bytes);
    auto value = reader.read(0);
    if (!value) {
        return fail(value.error());
    }
    if (!value->isMap()) {
        return fail(QStringLiteral("smp.body-not-map"),
                    QStringLiteral("The device sent management data that is not a CBOR map, as "
                                   "SMP requires."));
    }
    if (!reader.ok() || reader.offset() != bytes.size()) {
        return fail(QStringLiteral("smp.length-mismatch"),
                    QStringLiteral("The device sent %1 bytes after the end of the CBOR map the "
                                   "SMP header announced.")
                        .arg(bytes.size() - reader.offset()));
    }
    return value->toMap();
}

Result<Packet> decodePacket(QByteArrayView bytes) {
    auto header = decodeHeader(bytes);
    if (!header) {
        return fail(header.error());
    }
    const qsizetype dataSize = bytes.size() - kHeaderSize;
    if (dataSize != header->length) {
        return fail(QStringLiteral("smp.length-mismatch"),
                    QStringLiteral("The SMP header announces %1 bytes of data but %2 arrived; the "
                                   "link lost or added data.")
                        .arg(header->length)
                        .arg(dataSize));
    }
    auto body = decodeCborMap(bytes.sliced(kHeaderSize));
    if (!body) {
        return fail(body.error());
    }
    return Packet{*header, std::move(*body)};
}

}  // namespace otafleet::smp
