// Benchmark: QCustomPlot replot of a 1,000,000-point series as the console's telemetry charts
// draw it (a QCPGraph on a 1200x600 plot, offscreen), with adaptive sampling on (QCustomPlot's
// default, what TelemetryView uses) beside the same replot with it off, the baseline. Prints the
// median and fastest of N replots of the whole series and of a 1 % window (zoomed in), and the
// ratio; asserts nothing.
// Usage: bench_chart_replot [--points N] [--rounds R]
#include "ui/QCustomPlotInclude.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QRandomGenerator>

#include <algorithm>
#include <cstdio>

namespace {

struct Timing {
    double medianMs = 0;
    double fastestMs = 0;
};

Timing timeReplots(QCustomPlot& plot, int rounds) {
    plot.replot(QCustomPlot::rpImmediateRefresh);  // warm: caches, fonts, buffers
    QList<double> ms;
    for (int i = 0; i < rounds; ++i) {
        QElapsedTimer timer;
        timer.start();
        plot.replot(QCustomPlot::rpImmediateRefresh);
        ms.append(double(timer.nsecsElapsed()) / 1e6);
    }
    std::sort(ms.begin(), ms.end());
    return {ms.at(ms.size() / 2), ms.first()};
}

}  // namespace

int main(int argc, char* argv[]) {
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("QCustomPlot replot of a large series, adaptive sampling on and off."));
    parser.addHelpOption();
    const QCommandLineOption pointsOption(QStringLiteral("points"),
                                          QStringLiteral("Points in the series (default 1000000)."),
                                          QStringLiteral("N"), QStringLiteral("1000000"));
    const QCommandLineOption roundsOption(QStringLiteral("rounds"),
                                          QStringLiteral("Replots timed per case (default 7)."),
                                          QStringLiteral("R"), QStringLiteral("7"));
    parser.addOptions({pointsOption, roundsOption});
    parser.process(app);
    bool pointsOk = false;
    bool roundsOk = false;
    const int points = parser.value(pointsOption).toInt(&pointsOk);
    const int rounds = parser.value(roundsOption).toInt(&roundsOk);
    if (!pointsOk || !roundsOk || points < 2 || points > 50'000'000 || rounds < 1 ||
        rounds > 1000) {
        std::fprintf(stderr,
                     "bench_chart_replot: --points takes 2..50000000 and --rounds 1..1000\n");
        return 2;
    }

    // A random walk: every point differs from its neighbours, as telemetry over time does.
    QList<double> keys(points);
    QList<double> values(points);
    QRandomGenerator random(20261203);
    double value = 0;
    for (int i = 0; i < points; ++i) {
        keys[i] = i;
        value += random.generateDouble() - 0.5;
        values[i] = value;
    }

    QCustomPlot plot;
    plot.resize(1200, 600);
    QCPGraph* graph = plot.addGraph();
    graph->setData(keys, values, true);
    graph->setPen(QPen(QColor(0x1f, 0x77, 0xb4), 1.5));
    plot.rescaleAxes();
    const QCPRange whole = plot.xAxis->range();
    std::fprintf(stderr, "bench_chart_replot: %d points, %d replots per case, %dx%d px\n", points,
                 rounds, plot.width(), plot.height());

    std::printf("%-44s %12s %12s\n", "case", "median ms", "fastest ms");
    double sampledWhole = 0;
    double plainWhole = 0;
    for (bool adaptive : {true, false}) {
        graph->setAdaptiveSampling(adaptive);
        for (bool zoomed : {false, true}) {
            const double width = whole.size() / 100;
            plot.xAxis->setRange(
                zoomed ? QCPRange(whole.center() - width / 2, whole.center() + width / 2) : whole);
            const Timing t = timeReplots(plot, rounds);
            const QString name =
                QStringLiteral("replot, adaptive sampling %1, %2")
                    .arg(adaptive ? QStringLiteral("on") : QStringLiteral("off"),
                         zoomed ? QStringLiteral("1% window") : QStringLiteral("whole series"));
            std::printf("%-44s %12.2f %12.2f\n", qPrintable(name), t.medianMs, t.fastestMs);
            if (!zoomed)
                (adaptive ? sampledWhole : plainWhole) = t.medianMs;
            std::fflush(stdout);
        }
    }
    std::printf("whole series: adaptive sampling off (baseline) / on = %.1fx\n",
                sampledWhole > 0 ? plainWhole / sampledWhole : 0.0);
    return 0;
}
