// Logging category of the crypto library. Nothing logged here ever contains a PIN or key bytes.
#pragma once

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcCrypto)
