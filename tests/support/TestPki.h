// A ready fleet PKI for tests: PEM keys (fast) or keys in a fresh SoftHSM token, built with the
// same Pki::init that `otafleetctl pki init` uses.
#pragma once

#include "common/Error.h"
#include "crypto/Pki.h"
#include "crypto/SecretString.h"

#include <QString>

#include <functional>

namespace otafleet::test {

struct TestPki {
    static constexpr const char* kPin = "1234";    // user PIN of test tokens
    static constexpr const char* kSoPin = "5678";  // security officer PIN of test tokens
    static constexpr const char* kPinEnv = "OTAFLEET_TEST_PIN";  // set to kPin by create()
    static constexpr const char* kTokenLabel = "otafleet-test";

    // token=true: keys in a fresh SoftHSM token labelled "otafleet-test" inside dir/softhsm
    // (sets SOFTHSM2_CONF for this process); token=false: PEM keys. The PKI lands in dir/pki.
    [[nodiscard]] static Result<TestPki> create(const QString& dir, bool token);

    QString pkiDir;
    crypto::Pki pki;

    [[nodiscard]] std::function<Result<crypto::SecretString>()> pinProvider() const;
};

}  // namespace otafleet::test
