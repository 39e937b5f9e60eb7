// A worker thread's own connection to the fleet's store (a second Qt SQL connection to the same
// SQLite file in WAL mode, or to the same PostgreSQL database), opened on first use so that it is
// made, used and closed on that thread (fleet/WorkerThread.h).
#pragma once

#include "store/FleetStore.h"

#include <memory>

namespace otafleet::fleet {

struct LazyStore {
    explicit LazyStore(QString storePath) : path(std::move(storePath)) {}

    [[nodiscard]] Result<store::FleetStore*> get() {
        if (!opened) {
            auto store = store::FleetStore::open(path);
            if (!store)
                return std::unexpected(store.error());
            opened = std::move(*store);
        }
        return opened.get();
    }

    QString path;
    std::unique_ptr<store::FleetStore> opened;
};

}  // namespace otafleet::fleet
