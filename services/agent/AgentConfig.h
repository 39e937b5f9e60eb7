// The agent's configuration file (DIR/agent.conf): a small INI dialect ([section], key = value,
// # comments) read by a bounded parser that reports every problem with its line number, so a
// technician fixes a broken file in one pass. The agent refuses to start on any error.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace otafleet::agent {

enum class BootBackend { File, UBoot, Grub };

struct AgentConfig {
    static constexpr qsizetype kMaxFileSize = 64 * 1024;
    static constexpr int kMaxLines = 512;
    static constexpr qsizetype kMaxValueSize = 4 * 1024;
    static constexpr quint64 kDefaultMaxBundleSize = 4ULL * 1024 * 1024 * 1024;
    static constexpr int kMaxSignersRequired = 16;
    static constexpr quint64 kDefaultTelemetryBytes = 1024ULL * 1024;
    static constexpr quint64 kMinTelemetryBytes = 64ULL * 1024;         // EventQueue::kMinBytes
    static constexpr quint64 kMaxTelemetryBytes = 64ULL * 1024 * 1024;  // EventQueue::kMaxBytes

    // [device]
    QString deviceId;
    QString name;
    QString model;
    QString hardware;
    // [agent]
    QString listenHost;
    quint16 listenPort = 0;
    QString dataDir;  // default: the config file's directory
    quint64 maxBundleSize = kDefaultMaxBundleSize;
    // [slots]
    QString slotA;
    QString slotB;
    quint64 slotSize = 0;  // 0: no limit besides the disk
    // [boot]
    BootBackend bootBackend = BootBackend::File;
    int trialTries = 3;
    QString ubootEnvConfig;  // uboot: fw_env.config naming the (redundant) environment copies
    QString grubEnv;         // grub: first environment block; the second is grubEnv + ".b"
    // [trust]
    QString bundleRoot;    // root CA that bundles must chain to
    QStringList crlFiles;  // 'crl', repeatable: CRLs (what `pki crl` writes) for signers and
                           // operator certificates
    // 'signers_required': distinct trusted release signers an update bundle needs (two-person
    // release signing). Installs only: the factory image and boot verification of committed
    // firmware count one, so raising it later never makes installed firmware unbootable.
    int signersRequired = 1;
    // [server]
    QString serverAddress;  // 'address': HOST:PORT of the fleet's server or factory station;
                            // 'enroll' uses it when no --station is given
    // 'enroll_token_file': a one-time enrolment token; an agent with [server] address and no
    // [identity] enrols with it at start (station: 'enroll_station', else 'address') and then
    // deletes the file.
    QString enrollTokenFile;
    QString enrollStation;
    // [tls]
    QString tlsCertificate;
    QString tlsKey;
    QString operatorCa;  // CAs that issue operator client certificates
    // [identity] (otafleet-agent enroll): the device certificate the agent serves with, and its
    // key as a file or a pkcs11: URI (PIN from the environment variable pin_env).
    QString identityCertificate;
    QString identityKey;
    QString identityKeyUri;
    QString identityPinEnv;
    QString identityPkcs11Module;
    // [health]
    QString healthCommand;  // optional; run after each boot, exit 0 = healthy
    int healthTimeoutSeconds = 30;
    // Built-in checks (HealthChecks.h), run before the command; the data directory is always
    // checked for writing.
    quint64 healthMinFreeBytes = 0;  // 'min_free': bytes the data directory needs free
    QStringList healthTcpTargets;    // 'check_tcp' (repeatable): HOST:PORT that must answer
    // [telemetry]
    quint64 telemetryMaxBytes = kDefaultTelemetryBytes;  // cap of DATA/telemetry on disk
    int telemetryMetricsInterval = 3600;  // 'metrics_interval': seconds between metrics, 0 = off

    // [smp] (AgentSmp.h): answer MCUmgr SMP over a serial line. 'serial': a tty (a USB gadget
    // port such as /dev/ttyGS0, a UART) or kSmpPty, a pseudo-terminal the agent makes and names
    // on stderr ("otafleet-agent: smp pty /dev/pts/N"); empty: no SMP. 'baud': the tty's rate;
    // on a pty the rate the line is paced at like a UART, 0 for no pacing.
    static constexpr const char* kSmpPty = "pty";
    static constexpr int kDefaultSmpBaud = 115200;
    QString smpSerial;
    int smpBaud = kDefaultSmpBaud;

    [[nodiscard]] QString listenAddress() const;

    // Parses `text`; `fileName` prefixes messages ("agent.conf:12: ..."), relative paths are
    // resolved against `baseDir`. Error agent.config-invalid listing every problem, one per line.
    [[nodiscard]] static Result<AgentConfig> parse(QByteArrayView text, const QString& fileName,
                                                   const QString& baseDir);
    // Reads and parses a file (bounded). Errors: agent.config-missing, agent.config-invalid.
    [[nodiscard]] static Result<AgentConfig> load(const QString& path);
};

[[nodiscard]] QString bootBackendName(BootBackend backend);

}  // namespace otafleet::agent
