// otafleetctl fleet ... and release ...: the devices that dial into otafleetd and the releases
// it holds.
#include "Cli.h"
#include "ServerConnection.h"
#include "consoleclient/ReleaseUpload.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

namespace otafleet::cli {
namespace {

const QCommandLineOption kPage(QStringLiteral("page"), QStringLiteral("Page number, from 0."),
                               QStringLiteral("N"), QStringLiteral("0"));
const QCommandLineOption kPageSize(QStringLiteral("page-size"),
                                   QStringLiteral("Devices per page (1-1000)."),
                                   QStringLiteral("K"), QStringLiteral("100"));
const QCommandLineOption kFilter(QStringLiteral("filter"),
                                 QStringLiteral("Only devices matching EXPR, e.g. 'model=gw-x1 and "
                                                "version<2.0.0' or 'tag=pilot'."),
                                 QStringLiteral("EXPR"));
const QCommandLineOption kSearch(QStringLiteral("search"),
                                 QStringLiteral("Only devices whose id, name, serial, model, "
                                                "hardware or version contains TEXT."),
                                 QStringLiteral("TEXT"));
const QCommandLineOption kSort(QStringLiteral("sort"),
                               QStringLiteral("Order by id (default), name, model, hardware, "
                                              "version, group, state or last_seen."),
                               QStringLiteral("KEY"), QStringLiteral("id"));
const QCommandLineOption kDescending(QStringLiteral("descending"),
                                     QStringLiteral("With --sort: largest first."));
const QCommandLineOption kReason(QStringLiteral("reason"),
                                 QStringLiteral("Why (kept in the audit log)."),
                                 QStringLiteral("TEXT"));

constexpr qint64 kUploadChunk = 256 * 1024;

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

QJsonArray strings(const google::protobuf::RepeatedPtrField<std::string>& list) {
    QJsonArray out;
    for (const std::string& s : list)
        out.append(qs(s));
    return out;
}

QJsonObject deviceJson(const cpb::FleetDevice& d) {
    QJsonArray slots;
    for (const auto& s : d.slots()) {
        slots.append(QJsonObject{
            {QStringLiteral("name"), qs(s.name())},
            {QStringLiteral("state"), qs(s.state())},
            {QStringLiteral("version"), qs(s.version())},
            {QStringLiteral("security_version"), static_cast<double>(s.security_version())}});
    }
    return QJsonObject{{QStringLiteral("device_id"), qs(d.device_id())},
                       {QStringLiteral("name"), qs(d.name())},
                       {QStringLiteral("model"), qs(d.model())},
                       {QStringLiteral("hardware"), qs(d.hardware())},
                       {QStringLiteral("serial"), qs(d.serial())},
                       {QStringLiteral("version"), qs(d.version())},
                       {QStringLiteral("agent_version"), qs(d.agent_version())},
                       {QStringLiteral("health_ok"), d.health_ok()},
                       {QStringLiteral("slots"), slots},
                       {QStringLiteral("tags"), strings(d.tags())},
                       {QStringLiteral("group"), qs(d.group())},
                       {QStringLiteral("online"), d.online()},
                       {QStringLiteral("first_seen"), isoTime(d.first_seen_unix_ms())},
                       {QStringLiteral("last_seen"), isoTime(d.last_seen_unix_ms())},
                       {QStringLiteral("decommissioned"), d.decommissioned()}};
}

QJsonObject releaseJson(const cpb::Release& r) {
    QJsonObject o{{QStringLiteral("id"), qs(r.id())},
                  {QStringLiteral("product"), qs(r.product())},
                  {QStringLiteral("version"), qs(r.version())},
                  {QStringLiteral("security_version"), static_cast<double>(r.security_version())},
                  {QStringLiteral("hardware"), strings(r.hardware())},
                  {QStringLiteral("size"), static_cast<double>(r.size())},
                  {QStringLiteral("file_name"), qs(r.file_name())},
                  {QStringLiteral("uploaded_by"), qs(r.uploaded_by())},
                  {QStringLiteral("uploaded"), isoTime(r.uploaded_unix_ms())},
                  {QStringLiteral("revoked"), r.revoked()},
                  {QStringLiteral("revoked_at"), isoTime(r.revoked_unix_ms())},
                  {QStringLiteral("signers"), strings(r.signers())}};
    if (!r.manifest_json().empty()) {
        o.insert(QStringLiteral("manifest"),
                 QJsonDocument::fromJson(QByteArray::fromStdString(r.manifest_json())).object());
    }
    return o;
}

QString describeDevice(const cpb::FleetDevice& d) {
    QStringList tags;
    for (const std::string& t : d.tags())
        tags << qs(t);
    return QStringLiteral("%1  %2  %3  %4  %5%6%7%8")
        .arg(qs(d.device_id()).leftJustified(36), qs(d.model()), qs(d.hardware()),
             qs(d.version()).isEmpty() ? QStringLiteral("-") : qs(d.version()),
             d.decommissioned() ? QStringLiteral("decommissioned")
             : d.online()       ? QStringLiteral("online")
                                : QStringLiteral("offline"),
             tags.isEmpty() ? QString() : QStringLiteral("  tags=") + tags.join(u','),
             d.group().empty() ? QString() : QStringLiteral("  group=") + qs(d.group()), QString());
}

QString describeRelease(const cpb::Release& r) {
    QStringList hardware;
    for (const std::string& h : r.hardware())
        hardware << qs(h);
    return QStringLiteral("%1  %2 %3  security %4  %5  %6%7")
        .arg(qs(r.id()), qs(r.product()), qs(r.version()))
        .arg(r.security_version())
        .arg(hardware.join(u','), formatBytes(qint64(r.size())),
             r.revoked() ? QStringLiteral("  REVOKED") : QString());
}

int printDevice(const Result<cpb::FleetDevice>& d, bool json) {
    if (!d)
        return failWith(d.error(), json);
    if (json)
        printJson(QJsonObject{{QStringLiteral("device"), deviceJson(*d)}});
    else
        printText(describeDevice(*d));
    return kSuccess;
}

int printRelease(const Result<cpb::Release>& r, bool json) {
    if (!r)
        return failWith(r.error(), json);
    if (json)
        printJson(QJsonObject{{QStringLiteral("release"), releaseJson(*r)}});
    else
        printText(describeRelease(*r));
    return kSuccess;
}

int runDevices(const QCommandLineParser& p, ServerConnection& c, bool json) {
    bool okPage = false;
    bool okSize = false;
    const uint page = p.value(kPage).toUInt(&okPage);
    const uint size = p.value(kPageSize).toUInt(&okSize);
    if (!okPage || !okSize || size < 1 || size > 1000)
        return usageError(QStringLiteral("--page must be >= 0 and --page-size 1 to 1000"));
    cpb::ListDevicesRequest request;
    request.set_page(page);
    request.set_page_size(size);
    request.set_filter(p.value(kFilter).toStdString());
    request.set_text(p.value(kSearch).toStdString());
    request.set_sort(p.value(kSort).toStdString());
    request.set_descending(p.isSet(kDescending));
    auto reply = c.call(&cpb::ConsoleService::Stub::ListDevices, request);
    if (!reply)
        return failWith(reply.error(), json);
    QJsonArray devices;
    QString text;
    for (const cpb::FleetDevice& d : reply->devices()) {
        devices.append(deviceJson(d));
        text += describeDevice(d) + u'\n';
    }
    if (json) {
        printJson(QJsonObject{{QStringLiteral("devices"), devices},
                              {QStringLiteral("page"), static_cast<int>(reply->page())},
                              {QStringLiteral("page_size"), static_cast<int>(reply->page_size())},
                              {QStringLiteral("total"), static_cast<double>(reply->total())}});
    } else {
        printText(text + QStringLiteral("%1 of %2 devices (page %3)")
                             .arg(reply->devices_size())
                             .arg(reply->total())
                             .arg(page));
    }
    return kSuccess;
}

int runSummary(const QCommandLineParser&, ServerConnection& c, bool json) {
    auto reply = c.call(&cpb::ConsoleService::Stub::FleetSummary, cpb::FleetSummaryRequest());
    if (!reply)
        return failWith(reply.error(), json);
    QJsonArray versions;
    QString text = QStringLiteral("%1 devices: %2 online, %3 offline (%4 decommissioned)\n")
                       .arg(reply->devices())
                       .arg(reply->online())
                       .arg(reply->offline())
                       .arg(reply->decommissioned());
    for (const cpb::VersionCount& v : reply->versions()) {
        versions.append(QJsonObject{{QStringLiteral("model"), qs(v.model())},
                                    {QStringLiteral("hardware"), qs(v.hardware())},
                                    {QStringLiteral("version"), qs(v.version())},
                                    {QStringLiteral("devices"), static_cast<double>(v.devices())},
                                    {QStringLiteral("online"), static_cast<double>(v.online())}});
        text += QStringLiteral("  %1 %2 %3: %4 (%5 online)\n")
                    .arg(qs(v.model()), qs(v.hardware()), qs(v.version()))
                    .arg(v.devices())
                    .arg(v.online());
    }
    if (json) {
        printJson(QJsonObject{
            {QStringLiteral("devices"), static_cast<double>(reply->devices())},
            {QStringLiteral("online"), static_cast<double>(reply->online())},
            {QStringLiteral("offline"), static_cast<double>(reply->offline())},
            {QStringLiteral("decommissioned"), static_cast<double>(reply->decommissioned())},
            {QStringLiteral("versions"), versions}});
    } else {
        printText(text);
    }
    return kSuccess;
}

// ID and one more argument (TAG or GROUP); GROUP may be "" to clear it.
int twoArguments(const QCommandLineParser& p, const QString& second, QString& id, QString& value) {
    if (p.positionalArguments().size() != 2)
        return usageError(QStringLiteral("give the device ID and %1").arg(second));
    id = p.positionalArguments().at(0);
    value = p.positionalArguments().at(1);
    return kSuccess;
}

int runTag(const QCommandLineParser& p, ServerConnection& c, bool json, bool add) {
    QString id;
    QString tag;
    if (int rc = twoArguments(p, QStringLiteral("TAG"), id, tag); rc != kSuccess)
        return rc;
    cpb::TagDeviceRequest request;
    request.set_device_id(id.toStdString());
    request.set_tag(tag.toStdString());
    return printDevice(c.call(add ? &cpb::ConsoleService::Stub::TagDevice
                                  : &cpb::ConsoleService::Stub::UntagDevice,
                              request),
                       json);
}

int runGroup(const QCommandLineParser& p, ServerConnection& c, bool json) {
    QString id;
    QString group;
    if (int rc = twoArguments(p, QStringLiteral("GROUP (\"\" for none)"), id, group);
        rc != kSuccess)
        return rc;
    cpb::SetDeviceGroupRequest request;
    request.set_device_id(id.toStdString());
    request.set_group(group.toStdString());
    return printDevice(c.call(&cpb::ConsoleService::Stub::SetDeviceGroup, request), json);
}

int runDecommission(const QCommandLineParser& p, ServerConnection& c, bool json) {
    if (p.positionalArguments().size() != 1)
        return usageError(QStringLiteral("give exactly one device ID"));
    cpb::DecommissionDeviceRequest request;
    request.set_device_id(p.positionalArguments().first().toStdString());
    request.set_reason(p.value(kReason).toStdString());
    return printDevice(c.call(&cpb::ConsoleService::Stub::DecommissionDevice, request), json);
}

int runUpload(const QCommandLineParser& p, ServerConnection& c, bool json) {
    if (p.positionalArguments().size() != 1)
        return usageError(QStringLiteral("give exactly one bundle file"));
    const QString path = p.positionalArguments().first();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly) || file.size() <= 0) {
        return failWith(Error{QStringLiteral("io.read-failed"),
                              QStringLiteral("Could not read %1; check the path.").arg(path)},
                        json);
    }
    const qint64 total = file.size();
    // The server's own time budget: a minute plus a second per 256 KiB.
    auto ctx = c.context(std::chrono::seconds(60 + total / kUploadChunk));
    ProgressPrinter progress(QStringLiteral("uploading"));
    client::UploadOptions options;
    options.chunkBytes = kUploadChunk;
    options.progress = [&progress](qint64 sent, qint64 all) {
        progress.update(sent, all);
        return true;
    };
    auto uploaded = client::uploadRelease(c, *ctx, file, options);
    progress.finish();
    if (!uploaded)
        return failWith(uploaded.error(), json);
    return printRelease(*uploaded, json);
}

int runReleaseList(const QCommandLineParser&, ServerConnection& c, bool json) {
    auto reply = c.call(&cpb::ConsoleService::Stub::ListReleases, cpb::ListReleasesRequest());
    if (!reply)
        return failWith(reply.error(), json);
    QJsonArray releases;
    QString text;
    for (const cpb::Release& r : reply->releases()) {
        releases.append(releaseJson(r));
        text += describeRelease(r) + u'\n';
    }
    if (json)
        printJson(QJsonObject{{QStringLiteral("releases"), releases}});
    else
        printText(text.isEmpty() ? QStringLiteral("no releases") : text);
    return kSuccess;
}

int runInspect(const QCommandLineParser& p, ServerConnection& c, bool json) {
    if (p.positionalArguments().size() != 1)
        return usageError(QStringLiteral("give exactly one release ID"));
    cpb::InspectReleaseRequest request;
    request.set_id(p.positionalArguments().first().toStdString());
    auto reply = c.call(&cpb::ConsoleService::Stub::InspectRelease, request);
    if (!reply || json)
        return printRelease(reply, json);
    printText(
        describeRelease(*reply) +
        QStringLiteral("\nuploaded by %1 at %2\nsigned by %3\n%4")
            .arg(qs(reply->uploaded_by()), isoTime(reply->uploaded_unix_ms()),
                 strings(reply->signers()).isEmpty() ? QStringLiteral("-") : qs(reply->signers(0)),
                 qs(reply->manifest_json())));
    return kSuccess;
}

int runRevoke(const QCommandLineParser& p, ServerConnection& c, bool json) {
    if (p.positionalArguments().size() != 1)
        return usageError(QStringLiteral("give exactly one release ID"));
    cpb::RevokeReleaseRequest request;
    request.set_id(p.positionalArguments().first().toStdString());
    request.set_reason(p.value(kReason).toStdString());
    return printRelease(c.call(&cpb::ConsoleService::Stub::RevokeRelease, request), json);
}

}  // namespace

QList<Command> fleetReleaseCommands() {
    const QString fleet = QStringLiteral("fleet");
    const QString release = QStringLiteral("release");
    return {
        serverCommandFor(fleet, QStringLiteral("devices"),
                         QStringLiteral("List the devices that reported to the server, a page "
                                        "at a time."),
                         {}, {kFilter, kSearch, kSort, kDescending, kPage, kPageSize}, runDevices),
        serverCommandFor(fleet, QStringLiteral("summary"),
                         QStringLiteral("Devices per model, hardware revision and version; "
                                        "online and offline."),
                         {}, {}, runSummary),
        serverCommandFor(fleet, QStringLiteral("tag"), QStringLiteral("Tag a device."),
                         QStringLiteral("ID TAG"), {},
                         [](const QCommandLineParser& p, ServerConnection& c, bool json) {
                             return runTag(p, c, json, true);
                         }),
        serverCommandFor(fleet, QStringLiteral("untag"),
                         QStringLiteral("Remove a tag from a device."), QStringLiteral("ID TAG"),
                         {},
                         [](const QCommandLineParser& p, ServerConnection& c, bool json) {
                             return runTag(p, c, json, false);
                         }),
        serverCommandFor(fleet, QStringLiteral("group"),
                         QStringLiteral("Put a device in a group (\"\" for none)."),
                         QStringLiteral("ID GROUP"), {}, runGroup),
        serverCommandFor(fleet, QStringLiteral("decommission"),
                         QStringLiteral("Retire a device: the server refuses its connections "
                                        "from now on (admin)."),
                         QStringLiteral("ID"), {kReason}, runDecommission),
        serverCommandFor(release, QStringLiteral("upload"),
                         QStringLiteral("Upload a signed bundle; the server verifies it "
                                        "completely before keeping it (release-manager, admin)."),
                         QStringLiteral("B.otab"), {}, runUpload),
        serverCommandFor(release, QStringLiteral("list"),
                         QStringLiteral("List the server's releases, newest first."), {}, {},
                         runReleaseList),
        serverCommandFor(release, QStringLiteral("inspect"),
                         QStringLiteral("Show a release's metadata, signers and manifest."),
                         QStringLiteral("ID"), {}, runInspect),
        serverCommandFor(release, QStringLiteral("revoke"),
                         QStringLiteral("Revoke a release: it is no longer offered or "
                                        "downloadable (release-manager, admin)."),
                         QStringLiteral("ID"), {kReason}, runRevoke),
    };
}

}  // namespace otafleet::cli
