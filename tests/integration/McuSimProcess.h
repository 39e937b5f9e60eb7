// A real otafleet-mcusim process for tests: started with a directory, a key and its links, and
// read until it prints where it listens ("pty: /dev/pts/N", "udp: HOST:PORT"). Killed (a power
// cut, which the simulator's slot files survive) when the object goes.
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

namespace otafleet::test {

class McuSimProcess {
public:
    McuSimProcess() = default;
    ~McuSimProcess() { stop(); }
    McuSimProcess(const McuSimProcess&) = delete;
    McuSimProcess& operator=(const McuSimProcess&) = delete;

    // Starts the simulator; false (with the reason in error()) if it did not announce its links
    // within a few seconds.
    bool start(const QString& dir, const QString& publicKey, const QStringList& extraArgs);
    void stop();
    // Waits for the simulator to exit on its own (a fault hook); its exit code, or -1.
    int waitForExit(int timeoutMs);

    [[nodiscard]] QString pty() const { return m_pty; }
    [[nodiscard]] QString udp() const { return m_udp; }
    [[nodiscard]] QString error() const { return m_error; }

private:
    QProcess m_process;
    QString m_pty;
    QString m_udp;
    QString m_error;
};

}  // namespace otafleet::test
