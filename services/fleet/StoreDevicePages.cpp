#include "fleet/StoreDevicePages.h"

#include "fleet/FleetDeviceSql.h"
#include "fleet/PoolTask.h"
#include "store/FleetStore.h"

#include <QPromise>

namespace otafleet::fleet {
namespace {

DeviceRow rowOf(const store::FleetDeviceRecord& d) {
    DeviceRow row;
    row.key = d.deviceId;
    row.name = d.name;
    row.model = d.model;
    row.hardware = d.hardware;
    row.version = d.version;
    row.group = d.group;
    row.tags = d.tags;
    row.online = d.online;
    row.decommissioned = d.decommissioned;
    row.healthOk = d.healthOk;
    row.lastSeen = d.lastSeen;
    return row;
}

}  // namespace

struct StoreDevicePages::Worker {
    QString path;
    std::unique_ptr<store::FleetStore> store;
    DevicePager pager;

    Result<store::FleetStore*> open() {
        if (!store) {
            auto opened = store::FleetStore::open(path);
            if (!opened)
                return fail(opened.error());
            store = std::move(*opened);
        }
        return store.get();
    }

    Result<DeviceRowPage> fetch(const DevicePageRequest& request) {
        auto s = open();
        if (!s)
            return fail(s.error());
        auto page = pager.page((*s)->fleetDevices(), request);
        if (!page)
            return fail(page.error());
        DeviceRowPage out;
        out.total = page->total;
        for (const store::FleetDeviceRecord& d : page->devices)
            out.rows.append(rowOf(d));
        return out;
    }

    Status change(store::FleetDeviceRepository& devices, const BulkRequest& request,
                  const QString& key) {
        switch (request.action) {
            case BulkAction::Tag:
                return devices.addTag(key, request.value);
            case BulkAction::Untag:
                return devices.removeTag(key, request.value);
            case BulkAction::Group:
                return devices.setGroup(key, request.value);
            case BulkAction::Decommission:
                return devices.decommission(key);
        }
        return {};
    }

    void apply(QPromise<Result<BulkOutcome>>& promise, const BulkRequest& request) {
        if (auto ok = checkBulkRequest(request); !ok) {
            promise.addResult(Result<BulkOutcome>(fail(ok.error())));
            return;
        }
        auto s = open();
        if (!s) {
            promise.addResult(Result<BulkOutcome>(fail(s.error())));
            return;
        }
        pager.forget();  // tags and groups change what an inexact filter matches
        store::FleetDeviceRepository& devices = (*s)->fleetDevices();
        BulkOutcome outcome;
        const qsizetype total = request.keys.size();
        promise.setProgressRange(0, int(total));
        for (qsizetype first = 0; first < total; first += kBulkBatch) {
            if (promise.isCanceled() || request.stop->load()) {
                outcome.cancelled = true;
                break;
            }
            BulkOutcome batch;
            const qsizetype end = std::min(total, first + kBulkBatch);
            auto done = devices.transaction([&]() -> Status {
                for (qsizetype i = first; i < end; ++i) {
                    const QString& key = request.keys.at(i);
                    Status changed = change(devices, request, key);
                    if (changed) {
                        ++batch.changed;
                    } else if (changed.error().code.startsWith(u"store.not-found") ||
                               changed.error().code == u"store.too-many-tags") {
                        batch.failed.append({key, changed.error()});  // this device only
                    } else {
                        return changed;  // the database itself failed: the batch is undone
                    }
                }
                return {};
            });
            if (!done) {
                promise.addResult(Result<BulkOutcome>(fail(done.error())));
                return;
            }
            outcome.changed += batch.changed;
            outcome.failed += batch.failed;
            promise.setProgressValue(int(end));
        }
        promise.addResult(Result<BulkOutcome>(std::move(outcome)));
    }
};

StoreDevicePages::StoreDevicePages(QString path) : m_worker(std::make_shared<Worker>()) {
    m_worker->path = std::move(path);
    // One thread that never expires: the connection it opens stays its own.
    m_pool.setMaxThreadCount(1);
    m_pool.setExpiryTimeout(-1);
    m_pool.setObjectName(QStringLiteral("device pages"));
}

StoreDevicePages::~StoreDevicePages() {
    m_pool.clear();
    // The connection is closed on the thread that opened it.
    m_pool.start([worker = m_worker] { worker->store.reset(); });
    m_pool.waitForDone();
}

QFuture<Result<DeviceRowPage>> StoreDevicePages::fetch(const DevicePageRequest& request) {
    return runOnPool<Result<DeviceRowPage>>(
        m_pool, [worker = m_worker, request](QPromise<Result<DeviceRowPage>>& promise) {
            promise.addResult(worker->fetch(request));
        });
}

QFuture<Result<BulkOutcome>> StoreDevicePages::apply(const BulkRequest& request) {
    return runOnPool<Result<BulkOutcome>>(
        m_pool, [worker = m_worker, request](QPromise<Result<BulkOutcome>>& promise) {
            worker->apply(promise, request);
        });
}

}  // namespace otafleet::fleet
