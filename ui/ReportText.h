// How the console words a bundle's signers and times, shared by the bundle report (UpdateDialog)
// and the Releases view so the two read the same.
#pragma once

#include "fleet/BundleReport.h"

#include <QDateTime>
#include <QString>

namespace otafleet::ui {

// "CN=otafleet release CA,O=Example" -> "otafleet release CA"; the whole subject otherwise.
[[nodiscard]] QString commonNameOf(const QString& subject);
// "2026-12-03 10:00 UTC"; "?" for an invalid time.
[[nodiscard]] QString utcText(const QDateTime& when);
// Rich text for one signer: name, subject when it says more, key id, chain up to the root,
// expiry (in red when it is near).
[[nodiscard]] QString signerHtml(const fleet::BundleSignerInfo& signer);

}  // namespace otafleet::ui
