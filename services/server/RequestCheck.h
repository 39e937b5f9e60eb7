// Checks of every ConsoleService and DeviceService request before it reaches the store: bounded
// strings, known enum values, paging in range. Pure functions on the decoded messages (the
// fuzz target fuzz_server_request drives them with arbitrary bytes). Errors (the contract):
//   server.invalid-name      user name not [A-Za-z0-9._-]{1,64}
//   server.invalid-role      role missing or not one of the five
//   server.invalid-paging    page_size not 1..1000, or page * page_size past the end of range
//   server.invalid-device    device id not [A-Za-z0-9._:-]{1,128}
//   server.invalid-tag       tag / group not [A-Za-z0-9._-]{1,64} (group may be empty)
//   server.invalid-release   release id not 64 lowercase hex
//   server.invalid-text      reason / filter / file name too long or with control characters
//   server.invalid-inventory an agent's inventory field too long or missing
//   server.invalid-rollout   rollout id not 1..2^53, or a plan option too long / not text
//   server.invalid-progress  an agent's progress with an unknown state or oversized fields
//   store.password-invalid   password length outside 8..1024
#pragma once

#include "common/Error.h"
#include "rollout/RolloutPlan.h"
#include "rollout/RolloutTypes.h"
#include "store/UserRepository.h"

#include "otafleet/console/v1/console.pb.h"
#include "otafleet/device/v1/device.pb.h"

namespace otafleet::server {

inline constexpr int kMaxPageSize = 1000;
inline constexpr qint64 kMaxPageIndex = 1'000'000;
inline constexpr qsizetype kMaxFilterLength = 1024;
inline constexpr qsizetype kMaxReasonLength = 512;
inline constexpr qsizetype kMaxSearchTextLength = 200;  // ListDevicesRequest.text
inline constexpr qsizetype kMaxSortLength = 32;         // ListDevicesRequest.sort
inline constexpr qsizetype kMaxFileNameLength = 255;
inline constexpr qsizetype kMaxPlanOptionLength = 256;
inline constexpr qsizetype kMaxOfferIdLength = 256;
inline constexpr qint64 kMaxRolloutId = qint64(1) << 53;

struct Paging {
    int page = 0;
    int pageSize = 0;
};

[[nodiscard]] Status checkUserName(const std::string& name);
[[nodiscard]] Result<store::Role> checkRole(int role);
[[nodiscard]] Status checkPassword(const std::string& password);
[[nodiscard]] Result<Paging> checkPaging(quint32 page, quint32 pageSize);
[[nodiscard]] Status checkDeviceId(const std::string& id);
[[nodiscard]] Status checkTag(const std::string& tag, bool mayBeEmpty = false);
[[nodiscard]] Status checkReleaseId(const std::string& id);
[[nodiscard]] Status checkText(const std::string& text, qsizetype maxLength, const char* what);

// Whole requests.
[[nodiscard]] Status checkRequest(const console::v1::LoginRequest& r);
[[nodiscard]] Result<store::Role> checkRequest(const console::v1::AddUserRequest& r);
[[nodiscard]] Result<store::Role> checkRequest(const console::v1::SetUserRoleRequest& r);
[[nodiscard]] Status checkRequest(const console::v1::DisableUserRequest& r);
[[nodiscard]] Status checkRequest(const console::v1::ListAuditRequest& r);
[[nodiscard]] Result<Paging> checkRequest(const console::v1::ListDevicesRequest& r);
[[nodiscard]] Status checkRequest(const console::v1::TagDeviceRequest& r);
[[nodiscard]] Status checkRequest(const console::v1::SetDeviceGroupRequest& r);
[[nodiscard]] Status checkRequest(const console::v1::DecommissionDeviceRequest& r);
[[nodiscard]] Status checkRequest(const console::v1::InspectReleaseRequest& r);
[[nodiscard]] Status checkRequest(const console::v1::RevokeReleaseRequest& r);
// The first chunk of an upload: a header with a file name and a size 1..maxSize. Error
// server.release-too-large (RESOURCE_EXHAUSTED) above maxSize, server.upload-protocol without a
// header.
[[nodiscard]] Status checkUploadHeader(const console::v1::ReleaseChunk& first, qint64 maxSize);
// A rollout: the release id, the target expression's length and every plan option's length
// (their meaning is checked by DeviceFilter::parse and RolloutPlan::fromOptions).
[[nodiscard]] Result<rollout::PlanOptions> checkRequest(const console::v1::CreateRolloutRequest& r);
[[nodiscard]] Status checkRequest(const console::v1::RolloutRequest& r);
[[nodiscard]] Result<Paging> checkRequest(const console::v1::ListRolloutsRequest& r);
[[nodiscard]] Result<Paging> checkRequest(const console::v1::ListRolloutDevicesRequest& r);
[[nodiscard]] Status checkRequest(const device::v1::Inventory& r);
// An agent's progress as the engine's event: a known state name (offered, downloading, verifying,
// installing, rebooting, succeeded, failed, reverted, skipped), an offer id of 1..256 bytes, and
// the reason "error_code: error_message" (failed, reverted) or the error message (skipped).
[[nodiscard]] Result<rollout::DeviceEvent> checkRequest(const device::v1::Progress& r);
[[nodiscard]] Status checkRequest(const device::v1::DownloadRequest& r);

}  // namespace otafleet::server
