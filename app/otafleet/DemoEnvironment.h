// `otafleet --demo`: a complete playground on this machine so a newcomer can try the console at
// once. On first run it makes a development PKI on a SoftHSM2 token in DATA/softhsm, sets up
// two otafleet-agent devices in DATA/demo/agent-N and signs two firmware bundles in
// DATA/demo/bundles; every run starts the agents on loopback and stops them on exit.
// The token's PIN comes from OTAFLEET_PIN or is the documented development PIN; it is a
// development token and the console says so.
#pragma once

#include "common/Error.h"

#include <QList>
#include <QProcess>
#include <QString>

#include <memory>

namespace otafleet::app {

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
    [[nodiscard]] static Result<std::unique_ptr<DemoEnvironment>> prepare(
        const QString& dataDir, const QString& pkiDir, const QString& agentProgram);
    ~DemoEnvironment();  // stops the agents
    DemoEnvironment(const DemoEnvironment&) = delete;
    DemoEnvironment& operator=(const DemoEnvironment&) = delete;

    // Starts every agent and waits until each listens. Error demo.agent-failed with its output.
    [[nodiscard]] Status startAgents();
    [[nodiscard]] QList<DemoDevice> devices() const;
    [[nodiscard]] QString bundleDirectory() const;

private:
    DemoEnvironment(QString dataDir, QString pkiDir, QString agentProgram, QByteArray pin);
    [[nodiscard]] Status ensurePki();
    [[nodiscard]] Status ensureAgent(int index);
    [[nodiscard]] Status ensureBundles();
    [[nodiscard]] QProcessEnvironment childEnvironment() const;

    struct Agent {
        QString name;
        QString dir;
        QString target;
        std::unique_ptr<QProcess> process;
    };

    QString m_dataDir;
    QString m_pkiDir;
    QString m_agentProgram;
    QByteArray m_pin;
    QList<std::shared_ptr<Agent>> m_agents;
};

}  // namespace otafleet::app
