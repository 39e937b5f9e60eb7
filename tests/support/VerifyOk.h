// VERIFY_OK(expr): a Qt Test check that a Result/Status holds a value, printing the error's
// sentence and code when it does not. One definition for every test.
#pragma once

#include <QTest>

#define VERIFY_OK(expr)                                                        \
    do {                                                                       \
        const auto& r_ = (expr);                                               \
        QVERIFY2(r_.has_value(), r_ ? "" : qPrintable(r_.error().toString())); \
    } while (false)
