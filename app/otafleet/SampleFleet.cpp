#include "SampleFleet.h"

#include "SampleHistory.h"

#include "link/DeviceSnapshot.h"
#include "rollout/Clock.h"
#include "rollout/RolloutEngine.h"
#include "store/FleetStore.h"

#include <QJsonDocument>
#include <QRandomGenerator>

#include <chrono>

namespace otafleet::app {

namespace {

using namespace std::chrono_literals;
using rollout::DeviceEvent;
using rollout::DeviceState;
using rollout::RolloutEngine;
using rollout::RolloutState;

struct Release {
    const char* version;
    quint64 securityVersion;
    int weight;  // how many devices in a hundred still run it
};

struct Model {
    const char* name;
    const char* hardware;
    const char* prefix;
    int share;  // of a hundred devices
    std::initializer_list<Release> releases;
};

const std::initializer_list<Model> kModels = {
    {"gateway-x1", "rev-a", "gw", 45, {{"1.1.0", 2, 15}, {"1.2.0", 3, 70}, {"1.3.0", 4, 15}}},
    {"gateway-x1", "rev-b", "gwb", 20, {{"1.2.0", 3, 60}, {"1.3.0", 4, 40}}},
    {"sensor-s2", "rev-c", "s2", 35, {{"2.0.0", 7, 30}, {"2.0.1", 8, 70}}},
};

struct SampleDevice {
    qint64 id = 0;
    const Model* model = nullptr;
    QString version;
    QString previous;  // what it ran before (its inactive slot at first), if anything
    QString name;
};

const Release* releaseOf(const Model& model, QLatin1String version) {
    for (const Release& r : model.releases)
        if (QLatin1String(r.version) == version)
            return &r;
    return nullptr;
}

// `previous` is the release the device ran before (it stays in the inactive slot), if any.
link::DeviceSnapshot snapshotOf(const QString& name, const Model& model, const Release& release,
                                const Release* previous) {
    link::DeviceSnapshot s;
    s.deviceId = name;
    s.name = name;
    s.model = QLatin1String(model.name);
    s.hardware = QLatin1String(model.hardware);
    s.agentVersion = QStringLiteral("1.4.0");
    s.activeSlot = QStringLiteral("A");
    s.state = QStringLiteral("idle");
    s.healthOk = true;
    s.storedSecurityVersion = release.securityVersion;
    s.bootCount = 3;
    s.slots = {{QStringLiteral("A"),
                QStringLiteral("active"),
                QLatin1String(release.version),
                release.securityVersion,
                {},
                0,
                {}},
               {QStringLiteral("B"),
                QStringLiteral("inactive"),
                previous ? QLatin1String(previous->version) : QString(),
                previous ? previous->securityVersion : 0,
                {},
                0,
                {}}};
    return s;
}

Result<QList<SampleDevice>> addDevices(store::FleetStore& store, const QDateTime& now,
                                       QRandomGenerator& random) {
    QList<SampleDevice> devices;
    int serial = 0;
    for (const Model& model : kModels) {
        const int count = SampleFleet::kDevices * model.share / 100;
        for (int i = 0; i < count; ++i, ++serial) {
            const QString name = QStringLiteral("%1-%2")
                                     .arg(QLatin1String(model.prefix))
                                     .arg(i + 1, 4, 10, QLatin1Char('0'));
            auto id = store.devices().add(
                QStringLiteral("lan://192.0.2.%1:%2").arg(1 + serial % 250).arg(50051 + serial),
                name);
            if (!id)
                return fail(id.error());
            int pick = static_cast<int>(random.bounded(100));
            const Release* release = model.releases.begin();
            const Release* previous = nullptr;
            for (const Release& r : model.releases) {
                previous = release == &r ? nullptr : release;
                release = &r;
                if ((pick -= r.weight) < 0)
                    break;
            }
            // One in fifty never answered; one in eight was last seen days ago (offline).
            const quint32 presence = random.bounded(50);
            if (presence == 0) {
                devices.append({*id, &model, {}, {}, name});
                continue;
            }
            const QDateTime seen = presence < 7 ? now.addSecs(-3600 * (24 + random.bounded(96)))
                                                : now.addSecs(-random.bounded(600));
            const QByteArray json =
                QJsonDocument(snapshotOf(name, model, *release, previous).toJson())
                    .toJson(QJsonDocument::Compact);
            if (auto saved = store.devices().recordSnapshot(*id, json, seen); !saved)
                return fail(saved.error());
            devices.append({*id, &model, QLatin1String(release->version),
                            previous ? QLatin1String(previous->version) : QString(), name});
        }
    }
    // A few devices whose last update failed, with the reasons a fleet really sees.
    const std::initializer_list<std::pair<const char*, const char*>> failures = {
        {"bundle.signature",
         "The bundle's signature does not verify; get the release again from its signer."},
        {"link.timeout", "The device did not answer within 30 s; check its network link."},
        {"agent.health-check",
         "The new firmware failed its health check and the device went back to its previous "
         "slot."},
        {"bundle.wrong-hardware", "This bundle is for rev-a; the device is rev-b."},
    };
    int n = 0;
    for (const auto& [code, message] : failures) {
        const SampleDevice& d = devices.at(17 + 41 * n++);
        if (auto saved =
                store.devices().recordError(d.id, QLatin1String(code), QLatin1String(message));
            !saved)
            return fail(saved.error());
    }
    return devices;
}

rollout::RolloutPlan planFrom(const rollout::PlanOptions& options) {
    auto plan = rollout::RolloutPlan::fromOptions(options);
    Q_ASSERT(plan);  // the options below are fixed and valid
    return *plan;
}

// Drives `engine` the way a fleet would: each tick's offers answer with the next outcome of
// `outcome` (by offer index), the clock moving on a minute per round, until the engine stops
// offering or pauses. Returns every offer and where the engine put its device, for the history.
QList<SampleAttempt> drive(RolloutEngine& engine, rollout::ManualClock& clock,
                           const std::function<DeviceEvent(int)>& outcome, int maxRounds = 200) {
    QList<SampleAttempt> attempts;
    int offered = 0;
    for (int round = 0; round < maxRounds; ++round) {
        const rollout::TickResult result = engine.tick();
        for (const QString& id : result.offers) {
            const DeviceEvent event = outcome(offered++);
            (void)engine.onDeviceEvent(id, {DeviceState::Downloading, {}});
            (void)engine.onDeviceEvent(id, event);
            const auto progress = engine.device(id);
            attempts.append({id.toLongLong(), clock.now(), progress ? progress->wave + 1 : 0,
                             event.kind, progress ? progress->state : event.kind, event.reason});
        }
        if (engine.state() != RolloutState::Running && engine.state() != RolloutState::Scheduled)
            return attempts;
        clock.advance(1min);
    }
    return attempts;
}

Result<qint64> save(store::FleetStore& store, const QString& name, const QString& bundle,
                    const RolloutEngine& engine, const QDateTime& at) {
    return store.rollouts().add(name, bundle, rollout::rolloutStateName(engine.state()),
                                engine.toJsonBytes(), at);
}

QStringList idsOf(const QList<SampleDevice>& devices,
                  const std::function<bool(const SampleDevice&)>& pick) {
    QStringList ids;
    for (const SampleDevice& d : devices)
        if (pick(d))
            ids.append(QString::number(d.id));
    return ids;
}

}  // namespace

bool SampleFleet::isSampleDevice(const QString& uri) {
    return uri.startsWith(QLatin1String("lan://192.0.2."));
}

Status SampleFleet::seed(store::FleetStore& store, const QDateTime& now) {
    auto existing = store.devices().all();
    if (!existing)
        return fail(existing.error());
    if (!existing->isEmpty()) {
        return fail(QStringLiteral("sample.not-empty"),
                    QStringLiteral("The fleet file already holds devices; give --sample-fleet "
                                   "an empty --data-dir."));
    }
    QRandomGenerator random(20260105);
    auto devices = addDevices(store, now, random);
    if (!devices)
        return fail(devices.error());
    SampleHistory history(now, random);
    const QString bundles = QStringLiteral("/srv/releases/");  // where the releases were kept
    const auto isGatewayA = [](const SampleDevice& d) {
        return QLatin1String(d.model->hardware) == QLatin1String("rev-a");
    };

    // 1. Completed two days ago: 1.2.0 to the rev-a gateways, three waves.
    {
        rollout::ManualClock clock(now.addDays(-2));
        rollout::PlanOptions o;
        o.waves = QStringLiteral("5%,30%,100%");
        o.soak = QStringLiteral("30m");
        o.rate = QStringLiteral("20/min");
        o.precheck = QStringLiteral("battery>=30,health");
        // The devices it brought past 1.1.0 (the ones still on 1.1.0 were never targeted).
        auto engine = RolloutEngine::create(planFrom(o), QStringLiteral("alice"),
                                            idsOf(*devices,
                                                  [&](const SampleDevice& d) {
                                                      return isGatewayA(d) &&
                                                             !d.version.isEmpty() &&
                                                             d.version != QLatin1String("1.1.0");
                                                  }),
                                            clock);
        if (!engine)
            return fail(engine.error());
        (void)engine->start(QStringLiteral("alice"));
        const QList<SampleAttempt> attempts = drive(
            *engine, clock,
            [](int i) {
                return i % 37 == 36 ? DeviceEvent{DeviceState::Failed,
                                                  QStringLiteral("link.timeout: the device did "
                                                                 "not answer within 30 s.")}
                                    : DeviceEvent{DeviceState::Succeeded, {}};
            },
            2000);
        auto saved = save(store, QStringLiteral("gateway-x1 rev-a to 1.2.0"),
                          bundles + QStringLiteral("gateway-x1-1.2.0.otab"), *engine, clock.now());
        if (!saved)
            return fail(saved.error());
        history.addRollout(*saved, QStringLiteral("1.2.0"), attempts);
    }
    // 2. Paused by the engine this morning: the first wave of 1.3.0 failed too often.
    {
        rollout::ManualClock clock(now.addSecs(-2 * 3600));
        rollout::PlanOptions o;
        o.waves = QStringLiteral("8,25%,100%");
        o.failureThreshold = QStringLiteral("20%");
        o.minExecuted = QStringLiteral("5");
        o.soak = QStringLiteral("1h");
        auto engine = RolloutEngine::create(planFrom(o), QStringLiteral("alice"),
                                            idsOf(*devices,
                                                  [&](const SampleDevice& d) {
                                                      return isGatewayA(d) &&
                                                             d.version == QLatin1String("1.2.0");
                                                  }),
                                            clock);
        if (!engine)
            return fail(engine.error());
        (void)engine->start(QStringLiteral("alice"));
        const QList<SampleAttempt> attempts = drive(*engine, clock, [](int i) {
            switch (i % 4) {
                case 1:
                    return DeviceEvent{DeviceState::Reverted,
                                       QStringLiteral("agent.health-check: the health check "
                                                      "failed after the trial boot.")};
                case 3:
                    return DeviceEvent{DeviceState::Failed,
                                       QStringLiteral("bundle.payload-hash: the payload does not "
                                                      "match its manifest.")};
                default:
                    return DeviceEvent{DeviceState::Succeeded, {}};
            }
        });
        auto saved = save(store, QStringLiteral("gateway-x1 rev-a to 1.3.0"),
                          bundles + QStringLiteral("gateway-x1-1.3.0.otab"), *engine, clock.now());
        if (!saved)
            return fail(saved.error());
        history.addRollout(*saved, QStringLiteral("1.3.0"), attempts);
        // The devices it updated run 1.3.0 now, with 1.2.0 left in their other slot.
        for (const SampleAttempt& a : attempts) {
            if (a.after != DeviceState::Succeeded)
                continue;
            const auto d = std::find_if(devices->begin(), devices->end(),
                                        [&a](const SampleDevice& x) { return x.id == a.deviceId; });
            const Release* to = releaseOf(*d->model, QLatin1String("1.3.0"));
            const Release* from = releaseOf(*d->model, QLatin1String("1.2.0"));
            const QByteArray json =
                QJsonDocument(snapshotOf(d->name, *d->model, *to, from).toJson())
                    .toJson(QJsonDocument::Compact);
            if (auto updated = store.devices().recordSnapshot(
                    d->id, json, now.addSecs(-qint64(random.bounded(600))));
                !updated)
                return updated;
            d->version = QStringLiteral("1.3.0");  // `previous` stays what it ran a month ago
        }
    }
    // 3. A production security fix for the sensors, started by its author, awaiting approval.
    {
        rollout::ManualClock clock(now.addSecs(-20 * 60));
        rollout::PlanOptions o;
        o.waves = QStringLiteral("1%,10%,100%");
        o.emergency = true;
        o.production = true;
        o.rate = QStringLiteral("60/min");
        o.ramp = QStringLiteral("2");
        o.precheck = QStringLiteral("battery>=20,free>=2x");
        auto engine = RolloutEngine::create(planFrom(o), QStringLiteral("alice"),
                                            idsOf(*devices,
                                                  [](const SampleDevice& d) {
                                                      return QLatin1String(d.model->name) ==
                                                                 QLatin1String("sensor-s2") &&
                                                             !d.version.isEmpty();
                                                  }),
                                            clock);
        if (!engine)
            return fail(engine.error());
        (void)engine->start(QStringLiteral("alice"));
        if (auto saved =
                save(store, QStringLiteral("sensor-s2 security fix 2.0.2"),
                     bundles + QStringLiteral("sensor-s2-2.0.2.otab"), *engine, clock.now());
            !saved)
            return fail(saved.error());
    }
    // 4. A draft for the rev-b gateways.
    {
        rollout::ManualClock clock(now.addSecs(-5 * 60));
        rollout::PlanOptions o;
        o.waves = QStringLiteral("10,100%");
        o.soak = QStringLiteral("2h");
        o.window = QStringLiteral("Mon-Fri 01:00-05:00 Europe/Berlin");
        auto engine = RolloutEngine::create(planFrom(o), QStringLiteral("bob"),
                                            idsOf(*devices,
                                                  [](const SampleDevice& d) {
                                                      return !d.version.isEmpty() &&
                                                             QLatin1String(d.model->hardware) ==
                                                                 QLatin1String("rev-b");
                                                  }),
                                            clock);
        if (!engine)
            return fail(engine.error());
        if (auto saved =
                save(store, QStringLiteral("gateway-x1 rev-b to 1.3.0"),
                     bundles + QStringLiteral("gateway-x1-1.3.0.otab"), *engine, clock.now());
            !saved)
            return fail(saved.error());
    }
    QHash<qint64, SampleDeviceHistory> told;
    for (const SampleDevice& d : std::as_const(*devices)) {
        told.insert(d.id, {QLatin1String(d.model->name),
                           d.previous.isEmpty() ? d.version : d.previous, d.version});
    }
    return history.write(store, told);
}

}  // namespace otafleet::app
