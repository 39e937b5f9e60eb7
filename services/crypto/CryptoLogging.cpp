#include "crypto/CryptoLogging.h"

Q_LOGGING_CATEGORY(lcCrypto, "otafleet.crypto", QtInfoMsg)
