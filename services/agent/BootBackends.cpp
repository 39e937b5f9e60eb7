// The uboot and grub boot-control backends: the state machine's BootState stored through the
// bootloaders' own user-space tools, so the bootloader and the agent read the same bytes.
#include "agent/BootControl.h"
#include "agent/CrashPoint.h"
#include "agent/Logging.h"
#include "common/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>

#include <fcntl.h>
#include <unistd.h>

namespace otafleet::agent {
namespace {

constexpr int kToolTimeoutMs = 20000;
constexpr qint64 kMaxToolOutput = 64 * 1024;
constexpr char kPrefix[] = "otafleet_";

struct Tool {
    const char* name;
    const char* package;
};
constexpr Tool kFwPrintenv{"fw_printenv", "libubootenv-tool"};
constexpr Tool kFwSetenv{"fw_setenv", "libubootenv-tool"};
constexpr Tool kGrubEditenv{"grub-editenv", "grub-common"};

Result<QString> findTool(const Tool& tool) {
    const QString program = QStandardPaths::findExecutable(QLatin1String(tool.name));
    if (program.isEmpty()) {
        return fail(QStringLiteral("agent.boot-tool-missing"),
                    QStringLiteral("The boot backend needs %1, which is not installed; install "
                                   "the Debian package %2.")
                        .arg(QLatin1String(tool.name), QLatin1String(tool.package)));
    }
    return program;
}

Status requireTool(const Tool& tool) {
    auto program = findTool(tool);
    return program ? Status{} : Status(fail(program.error()));
}

// Runs a bootloader tool to completion in `workDir` (so relative paths in a fw_env.config are
// relative to its directory); its stdout goes to `out` (bounded).
Status runTool(const Tool& tool, const QStringList& args, QByteArray* out,
               const QString& workDir = {}) {
    auto program = findTool(tool);
    if (!program)
        return fail(program.error());
    QProcess process;
    process.setStandardInputFile(QProcess::nullDevice());
    if (!workDir.isEmpty())
        process.setWorkingDirectory(workDir);
    process.start(*program, args);
    const bool finished =
        process.waitForStarted(kToolTimeoutMs) && process.waitForFinished(kToolTimeoutMs);
    const QByteArray stdoutText = process.readAllStandardOutput();
    const QString stderrText = QString::fromLocal8Bit(process.readAllStandardError()).trimmed();
    if (!finished) {
        process.kill();
        process.waitForFinished(2000);
    }
    if (!finished || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0 ||
        stdoutText.size() > kMaxToolOutput) {
        return fail(
            QStringLiteral("agent.boot-tool-failed"),
            QStringLiteral("%1 %2 failed (%3); check the boot environment and the "
                           "package %4.")
                .arg(QLatin1String(tool.name), args.join(u' '),
                     stderrText.isEmpty() ? QStringLiteral("exit code %1").arg(process.exitCode())
                                          : stderrText,
                     QLatin1String(tool.package)));
    }
    if (out)
        *out = stdoutText;
    return {};
}

// fsync of a file the tool wrote, so the state is on disk when store() returns whether or not
// the tool synced it.
Status syncFile(const QString& path) {
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0)
        ::close(fd);
    if (!ok) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not flush the boot environment %1 to disk.").arg(path));
    }
    return {};
}

// "otafleet_key=value" lines (tool output) to BootState text "key=value".
QByteArray stateText(const QByteArray& listing, quint64* seq) {
    QByteArray text;
    for (const QByteArray& line : listing.split('\n')) {
        if (!line.startsWith(kPrefix))
            continue;
        const QByteArray kv = line.mid(qsizetype(sizeof(kPrefix) - 1));
        if (kv.startsWith("seq=")) {
            if (seq)
                *seq = kv.mid(4).toULongLong();
            continue;
        }
        text += kv + '\n';
    }
    return text;
}

QStringList assignments(const BootState& state) {
    QStringList out;
    for (const QByteArray& line : state.serialize().split('\n')) {
        if (!line.isEmpty())
            out << QLatin1String(kPrefix) + QString::fromLatin1(line);
    }
    return out;
}

Result<QStringList> envFiles(const QString& config) {
    auto bytes = readFileBounded(config, 4096);
    if (!bytes)
        return fail(bytes.error());
    QStringList files;
    for (const QByteArray& line : bytes->split('\n')) {
        const QByteArray t = line.trimmed();
        if (t.isEmpty() || t.startsWith('#'))
            continue;
        files << QFileInfo(config).absoluteDir().absoluteFilePath(
            QString::fromLocal8Bit(t.split(' ').first()));
    }
    return files;
}

}  // namespace

Result<BootState> UBootBootControl::load() {
    if (!QFileInfo::exists(m_config)) {
        return fail(QStringLiteral("agent.state-missing"),
                    QStringLiteral("No U-Boot environment config at %1; run 'otafleet-agent "
                                   "setup --boot-backend uboot' first.")
                        .arg(m_config));
    }
    QByteArray listing;
    if (auto ok = runTool(kFwPrintenv, {QStringLiteral("-c"), m_config}, &listing, dir()); !ok)
        return fail(ok.error());
    return BootState::parse(stateText(listing, nullptr));
}

Status UBootBootControl::store(const BootState& state) {
    // One script, one fw_setenv: all variables land in the same environment copy at once.
    const QString script = scriptPath();
    if (auto ok = writeFileAtomically(script, (assignments(state).join(u'\n') + u'\n').toUtf8());
        !ok)
        return ok;
    crash::at("uboot-env-before-set");
    if (auto ok = runTool(kFwSetenv, {QStringLiteral("-c"), m_config, QStringLiteral("-s"), script},
                          nullptr, dir());
        !ok)
        return ok;
    crash::at("uboot-env-set");
    auto files = envFiles(m_config);
    if (!files)
        return fail(files.error());
    for (const QString& file : *files) {
        if (auto ok = syncFile(file); !ok)
            return ok;
    }
    return {};
}

Status UBootBootControl::initialize(const BootState& state) {
    const QString base = m_config.endsWith(QStringLiteral(".config"))
                             ? m_config.chopped(int(sizeof(".config") - 1))
                             : m_config;
    const QString copies[2] = {base + QStringLiteral("-a.env"), base + QStringLiteral("-b.env")};
    QByteArray config =
        "# fw_env.config written by otafleet-agent setup: FILE OFFSET SIZE, two "
        "copies (redundant environment);\n# relative paths are relative to this "
        "file's directory\n";
    for (const QString& copy : copies) {
        if (auto ok = writeFileAtomically(copy, QByteArray(kEnvSize, '\0'), 0600); !ok)
            return ok;
        config += QFile::encodeName(QFileInfo(copy).fileName()) + " 0x0 0x" +
                  QByteArray::number(kEnvSize, 16) + '\n';
    }
    if (auto ok = writeFileAtomically(m_config, config); !ok)
        return ok;
    // Zeroed copies are not a valid environment; -f starts from an empty default one.
    const QString empty = m_config + QStringLiteral(".default");
    if (auto ok = writeFileAtomically(empty, QByteArray()); !ok)
        return ok;
    const QString script = scriptPath();
    if (auto ok = writeFileAtomically(script, (assignments(state).join(u'\n') + u'\n').toUtf8());
        !ok)
        return ok;
    if (auto ok = runTool(kFwSetenv,
                          {QStringLiteral("-c"), m_config, QStringLiteral("-f"), empty,
                           QStringLiteral("-s"), script},
                          nullptr, dir());
        !ok)
        return ok;
    // Both copies valid from the start: a second store fills the other one.
    return store(state);
}

QString GrubBootControl::blockPath(int index) const {
    return index == 0 ? m_block : m_block + QStringLiteral(".b");
}

GrubBootControl::Block GrubBootControl::read(int index) const {
    Block block;
    const QString path = blockPath(index);
    if (!QFileInfo::exists(path))
        return block;
    QByteArray listing;
    if (!runTool(kGrubEditenv, {path, QStringLiteral("list")}, &listing))
        return block;
    quint64 seq = 0;
    auto state = BootState::parse(stateText(listing, &seq));
    if (state && seq > 0) {
        block.seq = seq;
        block.state = *state;
    }
    return block;
}

Status GrubBootControl::write(int index, quint64 seq, const BootState& state) const {
    const QString path = blockPath(index);
    // A torn block cannot be edited, so it is removed; `set` creates a fresh one. Until `set`
    // has written, the block is missing or torn, and load() ignores it.
    QFile::remove(path);
    crash::at("grub-env-removed");
    QStringList args{path, QStringLiteral("set")};
    args << assignments(state) << QStringLiteral("otafleet_seq=%1").arg(seq);
    if (auto ok = runTool(kGrubEditenv, args, nullptr); !ok)
        return ok;
    crash::at("grub-env-set");
    if (auto ok = syncFile(path); !ok)
        return ok;
    return syncDirectory(QFileInfo(path).absolutePath());
}

Result<BootState> GrubBootControl::load() {
    const Block a = read(0);
    const Block b = read(1);
    if (!a.state && !b.state) {
        if (!QFileInfo::exists(blockPath(0)) && !QFileInfo::exists(blockPath(1))) {
            return fail(QStringLiteral("agent.state-missing"),
                        QStringLiteral("No GRUB environment block at %1; run 'otafleet-agent "
                                       "setup --boot-backend grub' first.")
                            .arg(m_block));
        }
        // Tell a missing tool apart from damaged blocks.
        if (auto ok = requireTool(kGrubEditenv); !ok)
            return fail(ok.error());
        return fail(QStringLiteral("agent.state-corrupt"),
                    QStringLiteral("Neither GRUB environment block (%1, %1.b) holds a valid boot "
                                   "state; run 'otafleet-agent setup' again to restore a factory "
                                   "state.")
                        .arg(m_block));
    }
    m_newest = a.seq >= b.seq ? 0 : 1;
    m_seq = std::max(a.seq, b.seq);
    return m_newest == 0 ? *a.state : *b.state;
}

Status GrubBootControl::store(const BootState& state) {
    if (m_newest < 0) {
        auto current = load();
        if (!current && current.error().code != u"agent.state-corrupt")
            return fail(current.error());
        if (!current)
            m_newest = 1;  // both damaged: rewrite the first block
    }
    // Overwrite the block that does not hold the newest state.
    const int target = 1 - m_newest;
    if (auto ok = write(target, m_seq + 1, state); !ok)
        return ok;
    m_newest = target;
    ++m_seq;
    return {};
}

Status GrubBootControl::initialize(const BootState& state) {
    if (!QDir().mkpath(QFileInfo(m_block).absolutePath())) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not create the directory of %1.").arg(m_block));
    }
    if (auto ok = write(0, 1, state); !ok)
        return ok;
    if (auto ok = write(1, 2, state); !ok)
        return ok;
    m_newest = 1;
    m_seq = 2;
    return {};
}

}  // namespace otafleet::agent
