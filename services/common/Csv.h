// RFC 4180 CSV for the exports people open in spreadsheets (station records, the device list):
// a field with a comma, quote or line break is quoted; a text field that starts with = + - @
// gets a leading ' so that a spreadsheet shows it instead of running it as a formula (device
// names and tags come from outside). Lines end in CRLF.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

namespace otafleet {

// One text field, guarded and quoted as needed.
[[nodiscard]] QString csvField(QString text);
// Header and rows of text fields, each row a line ending in CRLF, as UTF-8.
[[nodiscard]] QByteArray csvDocument(const QStringList& header, const QList<QStringList>& rows);

}  // namespace otafleet
