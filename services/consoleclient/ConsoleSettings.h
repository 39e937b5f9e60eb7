// Where otafleetd is and how to sign in to it: a plain value type, free of gRPC, so that the
// console's fleet layer (fleet/RemoteFleet.h) can take it without showing the wire to the UI.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

namespace otafleet::client {

// How to reach and sign in to otafleetd. Exactly one of `pkiDir` (root-ca.pem, operator.pem,
// operator.key) or `caFile` with `user` and `password` is set.
struct ConsoleSettings {
    QString address;  // HOST:PORT
    QString pkiDir;
    QString caFile;
    QString user;
    QByteArray password;  // UTF-8; wiped by ConsoleClient::open once it signed in

    // Errors client.settings with a sentence that says what is missing.
    [[nodiscard]] Status validate() const;
};

}  // namespace otafleet::client
