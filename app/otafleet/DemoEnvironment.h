// `otafleet --demo`: a complete playground on this machine so a newcomer can try the console at
// once. On first run it makes a development PKI on a SoftHSM2 token in DATA/softhsm, sets up
// two otafleet-agent devices in DATA/demo/agent-N and signs two firmware bundles in
// DATA/demo/bundles; every run starts the agents on loopback and stops them on exit.
// The token's PIN is asked only when setup needs it (a missing PKI, agent or bundle): from
// OTAFLEET_PIN, else from the caller's PIN provider (the console's PIN dialog, pre-filled with
// the documented development PIN). It is a development token and the console says so. The PIN
// is wiped once setup is done: the agents do not need it to run.
#pragma once

#include "common/Error.h"
#include "crypto/SecretString.h"

#include <QList>
#include <QProcess>
#include <QString>

#include <functional>
#include <memory>

namespace otafleet::app {

using DemoPinProvider = std::function<Result<crypto::SecretString>()>;

struct DemoDevice {
    QString name;
    QString target;  // HOST:PORT once started
};

class DemoEnvironment {
public:
    static constexpr const char* kPinEnv = "OTAFLEET_PIN";
    static constexpr const char* kDevelopmentPin = "1234";
    static constexpr const char* kTokenLabel = "otafleet-dev";

    // Must run before anything loads a PKCS#11 module: it points SOFTHSM2_CONF at DATA/softhsm.
    // Creates what is missing (PKI, agents, bundles); errors name the step that failed.
    // `askPin` is called at most once, only when setup needs the PIN and OTAFLEET_PIN is unset;
    // without one the development PIN is used. Error demo.pin-missing when it gives none.
    [[nodiscard]] static Result<std::unique_ptr<DemoEnvironment>> prepare(
        const QString& dataDir, const QString& pkiDir, const QString& agentProgram,
        const DemoPinProvider& askPin = {});
    ~DemoEnvironment();  // stops the agents
    DemoEnvironment(const DemoEnvironment&) = delete;
    DemoEnvironment& operator=(const DemoEnvironment&) = delete;

    // Starts every agent and waits until each listens. Error demo.agent-failed with its output.
    [[nodiscard]] Status startAgents();
    [[nodiscard]] QList<DemoDevice> devices() const;
    [[nodiscard]] QString bundleDirectory() const;

private:
    DemoEnvironment(QString dataDir, QString pkiDir, QString agentProgram, DemoPinProvider askPin);
    // The token PIN, asked on first use and kept until setup ends.
    [[nodiscard]] Result<QByteArray> pin();
    void forgetPin();
    [[nodiscard]] Status ensurePki();
    [[nodiscard]] Status ensureAgent(int index);
    [[nodiscard]] Status ensureBundles();
    [[nodiscard]] Result<QProcessEnvironment> setupEnvironment();

    struct Agent {
        QString name;
        QString dir;
        QString target;
        std::unique_ptr<QProcess> process;
    };

    QString m_dataDir;
    QString m_pkiDir;
    QString m_agentProgram;
    DemoPinProvider m_askPin;
    QByteArray m_pin;  // empty until asked; wiped by forgetPin()
    QList<std::shared_ptr<Agent>> m_agents;
};

}  // namespace otafleet::app
