// qcustomplot.h (Debian's QCustomPlot 2.1) uses the `signals` and `foreach` keywords, which the
// project switches off (QT_NO_KEYWORDS, QT_NO_FOREACH). Include it through this header only.
#pragma once

#define signals Q_SIGNALS
#define foreach(declaration, container) for (declaration : container)
#include <qcustomplot.h>
#undef foreach
#undef signals
