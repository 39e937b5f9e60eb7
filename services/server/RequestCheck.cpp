#include "server/RequestCheck.h"

#include "store/PasswordHash.h"

#include <QRegularExpression>

#include <QString>
#include <algorithm>

namespace otafleet::server {
namespace {

namespace cpb = otafleet::console::v1;
namespace dpb = otafleet::device::v1;

constexpr qsizetype kMaxInventoryField = 128;
constexpr int kMaxSlots = 8;

bool matchesPattern(const std::string& text, const QRegularExpression& pattern) {
    if (text.size() > 256)
        return false;
    return pattern.match(QString::fromStdString(text)).hasMatch();
}

std::unexpected<Error> invalid(const char* code, const QString& sentence) {
    return fail(QString::fromLatin1(code), sentence);
}

}  // namespace

Status checkUserName(const std::string& name) {
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
    if (!matchesPattern(name, pattern)) {
        return invalid("server.invalid-name",
                       QStringLiteral("A user name has 1 to 64 letters, digits, '.', '_' or '-'."));
    }
    return {};
}

Result<store::Role> checkRole(int role) {
    switch (role) {
        case cpb::ROLE_VIEWER:
            return store::Role::Viewer;
        case cpb::ROLE_TECHNICIAN:
            return store::Role::Technician;
        case cpb::ROLE_RELEASE_MANAGER:
            return store::Role::ReleaseManager;
        case cpb::ROLE_APPROVER:
            return store::Role::Approver;
        case cpb::ROLE_ADMIN:
            return store::Role::Admin;
        default:
            return invalid("server.invalid-role",
                           QStringLiteral("The role must be viewer, technician, release-manager, "
                                          "approver or admin (got value %1).")
                               .arg(role));
    }
}

Status checkPassword(const std::string& password) {
    if (password.size() < size_t(store::PasswordHash::kMinLength) ||
        password.size() > size_t(store::PasswordHash::kMaxLength)) {
        return invalid("store.password-invalid",
                       QStringLiteral("A password must have %1 to %2 bytes; choose another one.")
                           .arg(store::PasswordHash::kMinLength)
                           .arg(store::PasswordHash::kMaxLength));
    }
    return {};
}

Result<Paging> checkPaging(quint32 page, quint32 pageSize) {
    if (pageSize < 1 || pageSize > quint32(kMaxPageSize)) {
        return invalid(
            "server.invalid-paging",
            QStringLiteral("page_size must be 1 to %1 (got %2).").arg(kMaxPageSize).arg(pageSize));
    }
    if (page > quint32(kMaxPageIndex)) {
        return invalid(
            "server.invalid-paging",
            QStringLiteral("page must be 0 to %1 (got %2).").arg(kMaxPageIndex).arg(page));
    }
    return Paging{static_cast<int>(page), static_cast<int>(pageSize)};
}

Status checkDeviceId(const std::string& id) {
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9._:-]{1,128}$"));
    if (!matchesPattern(id, pattern)) {
        return invalid("server.invalid-device",
                       QStringLiteral("A device id has 1 to 128 letters, digits, '.', '_', ':' or "
                                      "'-'; 'otafleetctl fleet devices' lists them."));
    }
    return {};
}

Status checkTag(const std::string& tag, bool mayBeEmpty) {
    if (mayBeEmpty && tag.empty())
        return {};
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
    if (!matchesPattern(tag, pattern)) {
        return invalid("server.invalid-tag",
                       QStringLiteral("A tag or group has 1 to 64 letters, digits, '.', '_' or "
                                      "'-'."));
    }
    return {};
}

Status checkReleaseId(const std::string& id) {
    static const QRegularExpression pattern(QStringLiteral("^[0-9a-f]{64}$"));
    if (!matchesPattern(id, pattern)) {
        return invalid("server.invalid-release",
                       QStringLiteral("A release id is the bundle's SHA-256 in 64 lowercase hex "
                                      "digits; 'otafleetctl release list' shows them."));
    }
    return {};
}

Status checkText(const std::string& text, qsizetype maxLength, const char* what) {
    const QString s = QString::fromStdString(text.substr(0, size_t(maxLength) * 4 + 4));
    const bool control = std::any_of(s.begin(), s.end(),
                                     [](QChar c) { return c.category() == QChar::Other_Control; });
    if (text.size() > size_t(maxLength) || control || s.toUtf8().size() != qsizetype(text.size())) {
        return invalid("server.invalid-text",
                       QStringLiteral("The %1 must be UTF-8 text of at most %2 bytes without "
                                      "control characters.")
                           .arg(QLatin1String(what))
                           .arg(maxLength));
    }
    return {};
}

Status checkRequest(const cpb::LoginRequest& r) {
    if (auto ok = checkUserName(r.user()); !ok)
        return ok;
    if (r.password().empty() || r.password().size() > size_t(store::PasswordHash::kMaxLength))
        return checkPassword(r.password());
    return {};
}

Result<store::Role> checkRequest(const cpb::AddUserRequest& r) {
    if (auto ok = checkUserName(r.name()); !ok)
        return fail(ok.error());
    auto role = checkRole(r.role());
    if (!role)
        return role;
    if (auto ok = checkPassword(r.password()); !ok)
        return fail(ok.error());
    return role;
}

Result<store::Role> checkRequest(const cpb::SetUserRoleRequest& r) {
    if (auto ok = checkUserName(r.name()); !ok)
        return fail(ok.error());
    return checkRole(r.role());
}

Status checkRequest(const cpb::DisableUserRequest& r) {
    return checkUserName(r.name());
}

Status checkRequest(const cpb::ListAuditRequest& r) {
    if (r.after_id() < 0) {
        return invalid("server.invalid-paging",
                       QStringLiteral("after_id must not be negative (got %1).").arg(r.after_id()));
    }
    if (auto paging = checkPaging(0, r.page_size()); !paging)
        return fail(paging.error());
    return {};
}

Result<Paging> checkRequest(const cpb::ListDevicesRequest& r) {
    if (auto ok = checkText(r.filter(), kMaxFilterLength, "filter"); !ok)
        return fail(ok.error());
    if (auto ok = checkText(r.text(), kMaxSearchTextLength, "text"); !ok)
        return fail(ok.error());
    if (auto ok = checkText(r.sort(), kMaxSortLength, "sort"); !ok)
        return fail(ok.error());
    return checkPaging(r.page(), r.page_size());
}

Status checkRequest(const cpb::TagDeviceRequest& r) {
    if (auto ok = checkDeviceId(r.device_id()); !ok)
        return ok;
    return checkTag(r.tag());
}

Status checkRequest(const cpb::SetDeviceGroupRequest& r) {
    if (auto ok = checkDeviceId(r.device_id()); !ok)
        return ok;
    return checkTag(r.group(), true);
}

Status checkRequest(const cpb::DecommissionDeviceRequest& r) {
    if (auto ok = checkDeviceId(r.device_id()); !ok)
        return ok;
    return checkText(r.reason(), kMaxReasonLength, "reason");
}

Status checkRequest(const cpb::InspectReleaseRequest& r) {
    return checkReleaseId(r.id());
}

Status checkRequest(const cpb::RevokeReleaseRequest& r) {
    if (auto ok = checkReleaseId(r.id()); !ok)
        return ok;
    return checkText(r.reason(), kMaxReasonLength, "reason");
}

Status checkUploadHeader(const cpb::ReleaseChunk& first, qint64 maxSize) {
    if (!first.has_header()) {
        return invalid("server.upload-protocol",
                       QStringLiteral("The first message of an upload must carry its header (file "
                                      "name and size)."));
    }
    const std::string& name = first.header().file_name();
    if (name.empty() || name.find('/') != std::string::npos)
        return invalid("server.invalid-text",
                       QStringLiteral("The upload needs a file name without '/'."));
    if (auto ok = checkText(name, kMaxFileNameLength, "file name"); !ok)
        return ok;
    const quint64 size = first.header().total_size();
    if (size == 0) {
        return invalid("server.upload-protocol",
                       QStringLiteral("The upload's header must give the bundle's size."));
    }
    if (size > quint64(maxSize)) {
        return invalid("server.release-too-large",
                       QStringLiteral("The bundle has %1 bytes; this server accepts at most %2 "
                                      "([limits] max_release_size).")
                           .arg(size)
                           .arg(maxSize));
    }
    return {};
}

Status checkRequest(const dpb::Inventory& r) {
    if (auto ok = checkDeviceId(r.device_id()); !ok)
        return ok;
    for (const std::string* field :
         {&r.name(), &r.model(), &r.hardware(), &r.serial(), &r.version(), &r.agent_version()}) {
        if (auto ok = checkText(*field, kMaxInventoryField, "inventory field"); !ok) {
            return invalid("server.invalid-inventory",
                           QStringLiteral("Inventory fields are UTF-8 text of at most %1 bytes.")
                               .arg(kMaxInventoryField));
        }
    }
    if (r.slots_size() > kMaxSlots) {
        return invalid("server.invalid-inventory",
                       QStringLiteral("An inventory lists at most %1 slots.").arg(kMaxSlots));
    }
    for (const auto& slot : r.slots()) {
        for (const std::string* field : {&slot.name(), &slot.state(), &slot.version()}) {
            if (!checkText(*field, kMaxInventoryField, "slot field")) {
                return invalid("server.invalid-inventory",
                               QStringLiteral("Slot fields are UTF-8 text of at most %1 bytes.")
                                   .arg(kMaxInventoryField));
            }
        }
    }
    return {};
}

Result<rollout::PlanOptions> checkRequest(const cpb::CreateRolloutRequest& r) {
    if (auto ok = checkReleaseId(r.release_id()); !ok)
        return fail(ok.error());
    if (auto ok = checkText(r.target(), kMaxFilterLength, "target expression"); !ok)
        return fail(ok.error());
    const cpb::RolloutPlanOptions& p = r.plan();
    const auto option = [](const std::string& text, const char* name) -> Result<QString> {
        if (!checkText(text, kMaxPlanOptionLength, name)) {
            return invalid("server.invalid-rollout",
                           QStringLiteral("The plan option %1 must be text of at most %2 bytes.")
                               .arg(QLatin1String(name))
                               .arg(kMaxPlanOptionLength));
        }
        return QString::fromStdString(text);
    };
    rollout::PlanOptions options;
    auto waves = option(p.waves(), "waves");
    if (!waves)
        return fail(waves.error());
    options.waves = *waves;
    struct Optional {
        bool set;
        const std::string& text;
        const char* name;
        std::optional<QString>* out;
    };
    const Optional optionals[] = {
        {p.has_success_threshold(), p.success_threshold(), "success-threshold",
         &options.successThreshold},
        {p.has_failure_threshold(), p.failure_threshold(), "failure-threshold",
         &options.failureThreshold},
        {p.has_min_executed(), p.min_executed(), "min-executed", &options.minExecuted},
        {p.has_soak(), p.soak(), "soak", &options.soak},
        {p.has_rate(), p.rate(), "rate", &options.rate},
        {p.has_ramp(), p.ramp(), "ramp", &options.ramp},
        {p.has_device_timeout(), p.device_timeout(), "device-timeout", &options.deviceTimeout},
        {p.has_retries(), p.retries(), "retries", &options.retries},
        {p.has_window(), p.window(), "window", &options.window},
        {p.has_precheck(), p.precheck(), "precheck", &options.precheck},
    };
    for (const Optional& o : optionals) {
        if (!o.set)
            continue;
        auto value = option(o.text, o.name);
        if (!value)
            return fail(value.error());
        *o.out = *value;
    }
    options.production = p.production();
    options.emergency = p.emergency();
    options.includeLateJoiners = p.include_late_joiners();
    return options;
}

Status checkRequest(const cpb::RolloutRequest& r) {
    if (r.id() < 1 || r.id() > kMaxRolloutId) {
        return invalid("server.invalid-rollout",
                       QStringLiteral("A rollout id is a positive number (got %1); 'otafleetctl "
                                      "rollout list' shows them.")
                           .arg(r.id()));
    }
    return {};
}

Result<Paging> checkRequest(const cpb::ListRolloutsRequest& r) {
    return checkPaging(r.page(), r.page_size());
}

Result<Paging> checkRequest(const cpb::ListRolloutDevicesRequest& r) {
    cpb::RolloutRequest id;
    id.set_id(r.id());
    if (auto ok = checkRequest(id); !ok)
        return fail(ok.error());
    return checkPaging(r.page(), r.page_size());
}

Result<rollout::DeviceEvent> checkRequest(const dpb::Progress& r) {
    const auto bad = [](const QString& sentence) {
        return invalid("server.invalid-progress", sentence);
    };
    if (r.offer_id().empty() || !checkText(r.offer_id(), kMaxOfferIdLength, "offer id"))
        return bad(QStringLiteral("A progress report names its offer (1 to %1 bytes of text).")
                       .arg(kMaxOfferIdLength));
    if (!checkText(r.error_code(), 128, "error code") ||
        !checkText(r.error_message(), kMaxReasonLength, "error message")) {
        return bad(QStringLiteral("A progress report's error code has at most 128 bytes and its "
                                  "message at most %1, as text.")
                       .arg(kMaxReasonLength));
    }
    const auto state = r.state().size() <= 32
                           ? rollout::deviceStateFromName(QString::fromStdString(r.state()))
                           : std::nullopt;
    if (!state || *state == rollout::DeviceState::Pending ||
        *state == rollout::DeviceState::TimedOut) {
        return bad(
            QStringLiteral("A progress state is one of offered, downloading, verifying, "
                           "installing, rebooting, succeeded, failed, reverted, skipped."));
    }
    rollout::DeviceEvent event{*state, {}};
    const QString code = QString::fromStdString(r.error_code());
    const QString message = QString::fromStdString(r.error_message());
    if (*state == rollout::DeviceState::Skipped)
        event.reason = message.isEmpty() ? code : message;
    else if (rollout::isFailure(*state))
        event.reason = code.isEmpty()
                           ? message
                           : (message.isEmpty() ? code : code + QLatin1String(": ") + message);
    return event;
}

Status checkRequest(const dpb::DownloadRequest& r) {
    return checkReleaseId(r.release_id());
}

}  // namespace otafleet::server
