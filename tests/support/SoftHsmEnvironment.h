// A private SoftHSM2 token directory for one test process: writes softhsm2.conf into the given
// directory and points SOFTHSM2_CONF at it, so tests never touch the machine's tokens and child
// processes (agents, otafleetctl) inherit the same tokens.
#pragma once

#include <QString>

namespace otafleet::test {

class SoftHsmEnvironment {
public:
    // Creates `directory`/tokens and `directory`/softhsm2.conf and sets SOFTHSM2_CONF. Call it
    // before any PKCS#11 module is loaded in this process.
    explicit SoftHsmEnvironment(const QString& directory);

    [[nodiscard]] QString modulePath() const;  // /usr/lib/softhsm/libsofthsm2.so
    [[nodiscard]] QString confPath() const;

private:
    QString m_confPath;
};

}  // namespace otafleet::test
