// bench_fleet.sh's helper: what a shell cannot do quickly. Prints figures; asserts nothing.
//   seed DB FIRST COUNT           COUNT fleet devices (seed-NNNNNNN from FIRST) written through
//                                 FleetDeviceRepository, in one transaction per 10,000: the
//                                 store of a server with a large fleet, without dialling in
//   telemetry DB COUNT SQL_OUT    COUNT telemetry events stored through DeviceTelemetryRepository
//                                 one append (one transaction) per event, as otafleetd stored
//                                 them before its StoreWorker batched them; the same rows in
//                                 batches of kMaxBatch; and through server::StoreWorker's
//                                 queueTelemetry() as otafleetd's sessions store them now (timed
//                                 until the worker has written the last one); writes the same
//                                 rows as one INSERT transaction to SQL_OUT (schema included)
//                                 for the bare `sqlite3` baseline. Prints the three rates.
//   query ADDRESS PKI COUNT PAGE_SIZE [FILTER]
//                                 COUNT ListDevices RPCs (what `otafleetctl fleet devices --page
//                                 N --page-size K` sends) at random pages over the operator's
//                                 certificate; prints p50/p99 in milliseconds
#include "server/StoreWorker.h"
#include "store/DeviceTelemetryRepository.h"
#include "store/FleetDeviceRepository.h"
#include "store/FleetStore.h"

#include "otafleet/console/v1/console.grpc.pb.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlQuery>

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

using namespace otafleet;
namespace cpb = otafleet::console::v1;

int usage() {
    std::fprintf(stderr,
                 "usage: bench_fleet_tool seed DB FIRST COUNT\n"
                 "       bench_fleet_tool telemetry DB COUNT SQL_OUT\n"
                 "       bench_fleet_tool query ADDRESS PKI COUNT PAGE_SIZE [FILTER]\n");
    return 2;
}

std::unique_ptr<store::FleetStore> openStore(const QString& path) {
    auto opened = store::FleetStore::open(path);
    if (!opened) {
        std::fprintf(stderr, "bench_fleet_tool: %s\n", qPrintable(opened.error().toString()));
        return nullptr;
    }
    return std::move(*opened);
}

// The store's own connection (the only one in this process), for the transactions around bulk
// writes the repositories do not open themselves.
QSqlDatabase storeConnection() {
    return QSqlDatabase::database(QSqlDatabase::connectionNames().value(0));
}

int seed(const QString& path, qint64 first, qint64 count) {
    auto s = openStore(path);
    if (!s)
        return 1;
    const QStringList models{QStringLiteral("gw-x1"), QStringLiteral("gw-x2"),
                             QStringLiteral("sensor-s")};
    const QStringList versions{QStringLiteral("1.0.0"), QStringLiteral("1.2.0"),
                               QStringLiteral("2.0.0")};
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QElapsedTimer timer;
    timer.start();
    constexpr qint64 kChunk = 10000;
    for (qint64 done = 0; done < count;) {
        if (!storeConnection().transaction()) {
            std::fprintf(stderr, "bench_fleet_tool: cannot start a transaction\n");
            return 1;
        }
        const qint64 end = std::min(count, done + kChunk);
        for (; done < end; ++done) {
            const qint64 n = first + done;
            store::FleetDeviceRecord d;
            d.deviceId = QStringLiteral("seed-%1").arg(n, 7, 10, QLatin1Char('0'));
            d.name = d.deviceId;
            d.model = models.at(int(n % models.size()));
            d.hardware = n % 2 ? QStringLiteral("rev-a") : QStringLiteral("rev-b");
            d.serial = QStringLiteral("SN%1").arg(n);
            d.version = versions.at(int((n / 3) % versions.size()));
            d.agentVersion = QStringLiteral("0.9.0");
            d.healthOk = true;
            if (auto ok = s->fleetDevices().recordInventory(d, now); !ok) {
                std::fprintf(stderr, "bench_fleet_tool: %s\n", qPrintable(ok.error().toString()));
                return 1;
            }
        }
        if (!storeConnection().commit()) {
            std::fprintf(stderr, "bench_fleet_tool: commit failed\n");
            return 1;
        }
        if (count >= 100000 && done % 100000 == 0)
            std::fprintf(stderr, "bench_fleet_tool: seeded %lld of %lld devices\n",
                         static_cast<long long>(done), static_cast<long long>(count));
    }
    std::printf("seeded %lld devices in %.1f s\n", static_cast<long long>(count),
                double(timer.elapsed()) / 1000.0);
    return 0;
}

store::DeviceTelemetryRecord telemetryRow(qint64 i) {
    static const QStringList events{QStringLiteral("download-done"), QStringLiteral("install-done"),
                                    QStringLiteral("boot"), QStringLiteral("health")};
    store::DeviceTelemetryRecord r;
    r.deviceId = QStringLiteral("sim-%1").arg(i / 8, 5, 10, QLatin1Char('0'));
    r.seq = quint64(i % 8 + 1);
    r.time = QDateTime::fromMSecsSinceEpoch(1'790'000'000'000 + i * 10, Qt::UTC);
    r.model = QStringLiteral("sim-gw");
    r.hardware = QStringLiteral("rev-a");
    r.version = QStringLiteral("2.0.0");
    r.event = events.at(int(i % events.size()));
    r.durationMs = quint64(1000 + i % 997);
    r.bytes = 65536;
    r.throughput = 1.5e6;
    return r;
}

QString sqlText(const QString& s) {
    return u'\'' + QString(s).replace(u'\'', QStringLiteral("''")) + u'\'';
}

int telemetry(const QString& path, qint64 count, const QString& sqlOut) {
    // The same rows for the bare sqlite3 baseline: the table as migration 5 creates it, then
    // one transaction of plain INSERTs.
    QFile sql(sqlOut);
    if (!sql.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        std::fprintf(stderr, "bench_fleet_tool: cannot write %s\n", qPrintable(sqlOut));
        return 1;
    }
    sql.write(
        "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n"
        "CREATE TABLE device_telemetry (device_id TEXT NOT NULL, seq INTEGER NOT NULL,"
        " time_ms INTEGER NOT NULL, model TEXT NOT NULL, hardware TEXT NOT NULL,"
        " version TEXT NOT NULL, event TEXT NOT NULL, error_code TEXT NOT NULL,"
        " duration_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, throughput REAL NOT NULL,"
        " PRIMARY KEY (device_id, seq));\n"
        "CREATE INDEX device_telemetry_by_time ON device_telemetry (time_ms);\nBEGIN;\n");
    for (qint64 i = 0; i < count; ++i) {
        const store::DeviceTelemetryRecord r = telemetryRow(i);
        sql.write(
            QStringLiteral("INSERT INTO device_telemetry VALUES (%1, %2, %3, %4, %5, %6, "
                           "%7, '', %8, %9, %10);\n")
                .arg(sqlText(r.deviceId))
                .arg(r.seq)
                .arg(r.time.toMSecsSinceEpoch())
                .arg(sqlText(r.model), sqlText(r.hardware), sqlText(r.version), sqlText(r.event))
                .arg(r.durationMs)
                .arg(r.bytes)
                .arg(r.throughput, 0, 'f', 1)
                .toUtf8());
    }
    sql.write("COMMIT;\n");
    sql.close();

    double perEvent = 0;
    double batched = 0;
    for (const bool batch : {false, true}) {
        const QString file = path + (batch ? QStringLiteral(".batched") : QString());
        QFile::remove(file);
        auto s = openStore(file);
        if (!s)
            return 1;
        QList<store::DeviceTelemetryRecord> rows;
        rows.reserve(int(count));
        for (qint64 i = 0; i < count; ++i)
            rows.append(telemetryRow(i));
        QElapsedTimer timer;
        timer.start();
        const qsizetype step = batch ? store::DeviceTelemetryRepository::kMaxBatch : 1;
        for (qsizetype i = 0; i < rows.size(); i += step) {
            if (auto ok = s->deviceTelemetry().append(rows.mid(i, step)); !ok) {
                std::fprintf(stderr, "bench_fleet_tool: %s\n", qPrintable(ok.error().toString()));
                return 1;
            }
        }
        const double seconds = std::max(1e-9, double(timer.nsecsElapsed()) / 1e9);
        (batch ? batched : perEvent) = double(count) / seconds;
        auto stored = s->deviceTelemetry().count();
        if (!stored || *stored != count) {
            std::fprintf(stderr, "bench_fleet_tool: stored %lld of %lld events\n",
                         static_cast<long long>(stored ? *stored : -1),
                         static_cast<long long>(count));
            return 1;
        }
    }
    // otafleetd's path: every session queues its events on the StoreWorker, which writes them in
    // batches; timed until the worker is stopped, i.e. every queued event is written.
    double worker = 0;
    {
        const QString file = path + QStringLiteral(".worker");
        QFile::remove(file);
        QList<store::DeviceTelemetryRecord> rows;
        rows.reserve(int(count));
        for (qint64 i = 0; i < count; ++i)
            rows.append(telemetryRow(i));
        auto started = server::StoreWorker::start(file);
        if (!started) {
            std::fprintf(stderr, "bench_fleet_tool: %s\n", qPrintable(started.error().toString()));
            return 1;
        }
        QElapsedTimer timer;
        timer.start();
        for (store::DeviceTelemetryRecord& r : rows)
            (*started)->queueTelemetry(std::move(r));
        started->reset();  // stops the worker once everything queued is written
        const double seconds = std::max(1e-9, double(timer.nsecsElapsed()) / 1e9);
        worker = double(count) / seconds;
        auto s = openStore(file);
        auto stored = s ? s->deviceTelemetry().count() : Result<qint64>(0);
        if (!stored || *stored != count) {
            std::fprintf(stderr, "bench_fleet_tool: the worker stored %lld of %lld events\n",
                         static_cast<long long>(stored ? *stored : -1),
                         static_cast<long long>(count));
            return 1;
        }
    }
    std::printf("%.0f %.0f %.0f\n", perEvent, batched, worker);
    return 0;
}

std::string readText(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll().toStdString();
}

int query(const QString& address, const QString& pkiDir, int count, int pageSize,
          const QString& filter) {
    const QDir pki(pkiDir);
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = readText(pki.filePath(QStringLiteral("root-ca.pem")));
    tls.pem_cert_chain = readText(pki.filePath(QStringLiteral("operator.pem")));
    tls.pem_private_key = readText(pki.filePath(QStringLiteral("operator.key")));
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    auto channel =
        grpc::CreateCustomChannel(address.toStdString(), grpc::SslCredentials(tls), args);
    auto stub = cpb::ConsoleService::NewStub(channel);
    auto call = [&](quint32 page, cpb::DevicePage* reply) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
        cpb::ListDevicesRequest request;
        request.set_filter(filter.toStdString());
        request.set_page(page);
        request.set_page_size(quint32(pageSize));
        return stub->ListDevices(&context, request, reply);
    };
    cpb::DevicePage first;
    if (const grpc::Status status = call(0, &first); !status.ok()) {
        std::fprintf(stderr, "bench_fleet_tool: ListDevices: %s\n", status.error_message().c_str());
        return 1;
    }
    const quint64 pages =
        std::max<quint64>(1, (first.total() + quint64(pageSize) - 1) / quint64(pageSize));
    std::vector<double> ms;
    ms.reserve(std::size_t(count));
    for (int i = 0; i < count; ++i) {
        const auto page = quint32(QRandomGenerator::global()->bounded(quint64(pages)));
        cpb::DevicePage reply;
        QElapsedTimer timer;
        timer.start();
        const grpc::Status status = call(page, &reply);
        ms.push_back(double(timer.nsecsElapsed()) / 1e6);
        if (!status.ok()) {
            std::fprintf(stderr, "bench_fleet_tool: ListDevices page %u: %s\n", page,
                         status.error_message().c_str());
            return 1;
        }
    }
    std::sort(ms.begin(), ms.end());
    const auto at = [&](double q) {
        return ms[std::min(ms.size() - 1, std::size_t(q * double(ms.size() - 1) + 0.5))];
    };
    std::printf("%.2f %.2f %llu\n", at(0.50), at(0.99),
                static_cast<unsigned long long>(first.total()));
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    QCoreApplication app(argc, argv);
    const QStringList a = app.arguments().mid(1);
    if (a.size() == 4 && a.at(0) == u"seed")
        return seed(a.at(1), a.at(2).toLongLong(), a.at(3).toLongLong());
    if (a.size() == 4 && a.at(0) == u"telemetry")
        return telemetry(a.at(1), a.at(2).toLongLong(), a.at(3));
    if ((a.size() == 5 || a.size() == 6) && a.at(0) == u"query")
        return query(a.at(1), a.at(2), a.at(3).toInt(), a.at(4).toInt(), a.value(5));
    return usage();
}
