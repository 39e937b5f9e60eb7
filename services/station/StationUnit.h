// One unit on a factory station's port, from plug-in to record: reads its serial number (the
// provisioning group, or the USB serial number for firmware without it), uploads the MCUboot
// image unless the unit already runs it confirmed, marks it for test, resets, waits for the unit
// to come back (reopening a USB port that re-enumerates), checks the new image runs, confirms
// it, and with a certifier has the unit make its identity key, certifies its request and stores
// the certificate chain in it. Every step is asynchronous on one SmpClient, so one thread drives
// many units at once; every step is bounded (SMP timeouts, the boot wait), so a unit always ends
// in exactly one record.
#pragma once

#include "common/Error.h"
#include "smp/SmpClient.h"
#include "smp/SmpProvisioning.h"
#include "station/UnitRecord.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>

namespace otafleet::smp {
class ImageUploader;
class SmpTransport;
}  // namespace otafleet::smp

namespace otafleet::station {

class DeviceCertifier;

// What every unit of a run gets.
struct UnitJob {
    QByteArray image;      // a signed MCUboot image, already checked against the release key
    QByteArray imageHash;  // its SHA-256 TLV (how the unit's image manager names it)
    QString imageVersion;
    // For units that say (otafleet's group 96 "image format") they take otafleet bundles: Linux
    // devices running otafleet-agent. A verified .otab, the payload's SHA-256 and its version.
    // Either image or bundle may be empty; a unit whose kind the run has nothing for fails.
    QByteArray bundle;
    QByteArray bundleHash;
    QString bundleVersion;
    const DeviceCertifier* certifier = nullptr;  // null: no identity provisioning
    QString stationId;
    QString operatorName;
    int baud = 115200;
    int requestTimeoutMs = 3000;
    int bootWaitMs = 15000;
    // The longest one unit may take from plug-in to record; past it the unit fails with
    // station.unit-timeout at the stage it was in. 0: no limit beyond the per-step bounds.
    qint64 unitTimeoutMs = 0;
};

class StationUnit : public QObject {
    Q_OBJECT

public:
    StationUnit(QString port, const UnitJob& job, QObject* parent = nullptr);
    ~StationUnit() override;

    void start();
    // Ends the unit now as failed with `why` (a run that stops); no-op once finished.
    void abort(const Error& why);

    [[nodiscard]] QString port() const { return m_record.port; }
    [[nodiscard]] const UnitRecord& record() const { return m_record; }
    [[nodiscard]] bool isFinished() const { return m_finished; }

Q_SIGNALS:
    // "connect", "identify", "format", "inspect", "upload", "test", "reset", "boot", "confirm",
    // "provision"; the serial number is empty until "identify" read it.
    void stageChanged(const QString& stage, const QString& serialNumber);
    void progress(qint64 done, qint64 total);
    void finished(const otafleet::station::UnitRecord& record);  // exactly once

private:
    using Then = std::function<void(const QCborMap&)>;
    void setStage(const QString& stage);
    // Runs `request`; a link error or a device error fails the unit at the current stage.
    void call(const smp::Request& request, Then then);
    // Runs `request` and parses its answer: a value goes to `done`, a device without the command
    // (smp.device.not-supported) to `unsupported`, any other error fails the unit.
    template <typename T>
    void callOptional(const smp::Request& request, Result<T> (*parse)(const QCborMap&),
                      std::function<void(const T&)> done,
                      std::function<void(const Error&)> unsupported);
    void identify();
    void readParameters();
    void readFormat();
    void choose(smp::provision::ImageFormat format);
    void inspect();
    void upload();
    void markTest();
    void reset();
    void pollBoot();
    void checkRunning();
    void confirm();
    void provision();
    void pass();
    void failWith(const Error& error);

    const UnitJob& m_job;
    UnitRecord m_record;
    QString m_stage;
    std::unique_ptr<smp::SmpTransport> m_transport;
    std::unique_ptr<smp::SmpClient> m_client;
    std::unique_ptr<smp::ImageUploader> m_uploader;
    const QByteArray* m_image = nullptr;  // the job's image or bundle, by the unit's format
    QByteArray m_imageHash;
    qint64 m_bufSize = 0;
    QElapsedTimer m_bootClock;
    QTimer m_deadline;
    bool m_linkDown = false;  // the port vanished during a reset and is not open again yet
    bool m_finished = false;
};

}  // namespace otafleet::station
