#include "ui/StationView.h"

#include <QAbstractItemModel>
#include <QCheckBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPainter>
#include <QPushButton>
#include <QSpinBox>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

namespace otafleet::ui {
namespace {

constexpr int kTileWidth = 220;
constexpr int kTileHeight = 96;
constexpr int kMargin = 8;

// One tile per port, painted from the model's named roles.
class TileDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QSize sizeHint(const QStyleOptionViewItem&, const QModelIndex&) const override {
        return {kTileWidth, kTileHeight};
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override {
        const auto value = [&](const char* name) {
            const QHash<int, QByteArray> roles = index.model()->roleNames();
            return index.data(roles.key(QByteArray(name), -1));
        };
        const QString result = value("result").toString();
        QColor colour = option.palette.color(QPalette::Base);
        if (result == QLatin1String("pass")) {
            colour = QColor(0xd8, 0xf0, 0xd8);
        } else if (result == QLatin1String("fail")) {
            colour = QColor(0xf6, 0xd4, 0xd4);
        } else if (result == QLatin1String("running")) {
            colour = QColor(0xdc, 0xe8, 0xf8);
        }
        const QRect tile = option.rect.adjusted(3, 3, -3, -3);
        painter->save();
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setBrush(colour);
        painter->setPen(option.state & QStyle::State_Selected
                            ? option.palette.color(QPalette::Highlight)
                            : option.palette.color(QPalette::Mid));
        painter->drawRoundedRect(tile, 6, 6);
        painter->setPen(option.palette.color(QPalette::Text));
        const QRect text = tile.adjusted(kMargin, kMargin / 2, -kMargin, -kMargin);
        const int line = option.fontMetrics.height();
        QFont bold = option.font;
        bold.setBold(true);
        painter->setFont(bold);
        const QString serial = value("serialNumber").toString();
        painter->drawText(QRect(text.left(), text.top(), text.width(), line), Qt::AlignLeft,
                          serial.isEmpty() ? tr("(unknown unit)") : serial);
        painter->setFont(option.font);
        painter->drawText(
            QRect(text.left(), text.top() + line, text.width(), line), Qt::AlignLeft,
            option.fontMetrics.elidedText(value("port").toString(), Qt::ElideMiddle, text.width()));
        const QString stage = result == QLatin1String("pass") ? tr("passed")
                              : result == QLatin1String("fail")
                                  ? tr("failed at %1").arg(value("stage").toString())
                                  : value("stage").toString();
        painter->drawText(QRect(text.left(), text.top() + 2 * line, text.width(), line),
                          Qt::AlignLeft, stage);
        // The upload's progress.
        const int progress = qBound(0, value("progress").toInt(), 100);
        const QRect bar(text.left(), text.bottom() - line / 2, text.width(), line / 2);
        painter->setPen(Qt::NoPen);
        painter->setBrush(option.palette.color(QPalette::Midlight));
        painter->drawRect(bar);
        painter->setBrush(option.palette.color(QPalette::Highlight));
        painter->drawRect(QRect(bar.topLeft(), QSize(bar.width() * progress / 100, bar.height())));
        painter->restore();
    }
};

QWidget* withBrowse(QLineEdit* edit, bool directory, QWidget* parent) {
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit);
    auto* browse = new QPushButton(StationView::tr("Browse…"), row);
    layout->addWidget(browse);
    QObject::connect(browse, &QPushButton::clicked, edit, [edit, directory] {
        const QString chosen = directory ? QFileDialog::getExistingDirectory(edit, {}, edit->text())
                                         : QFileDialog::getOpenFileName(edit, {}, edit->text());
        if (!chosen.isEmpty()) {
            edit->setText(chosen);
        }
    });
    return row;
}

}  // namespace

StationView::StationView(QAbstractItemModel* tiles, QWidget* parent) : QWidget(parent) {
    m_ports = new QLineEdit(QStringLiteral("/dev/ttyACM*"), this);
    m_ports->setToolTip(
        tr("Every port matching this pattern gets a unit flashed; ports that "
           "appear while the station runs are picked up."));
    m_image = new QLineEdit(this);
    m_key = new QLineEdit(this);
    m_key->setPlaceholderText(tr("release public key (PEM), or leave empty to use the PKI's"));
    m_pki = new QLineEdit(this);
    m_provision =
        new QCheckBox(tr("Provision each unit's identity from the PKI's device CA"), this);
    m_operator = new QLineEdit(this);
    m_stationId = new QLineEdit(this);
    m_database = new QLineEdit(this);
    m_units = new QSpinBox(this);
    m_units->setRange(0, 100000);
    m_units->setSpecialValueText(tr("until stopped"));

    auto* form = new QFormLayout;
    form->addRow(tr("&Ports:"), m_ports);
    QWidget* imageRow = withBrowse(m_image, false, this);
    QWidget* keyRow = withBrowse(m_key, false, this);
    QWidget* pkiRow = withBrowse(m_pki, true, this);
    QWidget* databaseRow = withBrowse(m_database, false, this);
    form->addRow(tr("&Image:"), imageRow);
    form->addRow(tr("Release &key:"), keyRow);
    form->addRow(tr("P&KI:"), pkiRow);
    form->addRow(QString(), m_provision);
    form->addRow(tr("&Operator:"), m_operator);
    form->addRow(tr("Station &id:"), m_stationId);
    form->addRow(tr("&Database:"), databaseRow);
    form->addRow(tr("&Units:"), m_units);
    m_settings = {m_ports,  m_provision, m_operator, m_stationId, m_units,
                  imageRow, keyRow,      pkiRow,     databaseRow};

    m_start = new QPushButton(tr("&Start"), this);
    m_stop = new QPushButton(tr("S&top"), this);
    m_stop->setEnabled(false);
    connect(m_start, &QPushButton::clicked, this, [this] {
        m_error->clear();
        Q_EMIT startRequested(request());
    });
    connect(m_stop, &QPushButton::clicked, this, &StationView::stopRequested);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    buttons->addStretch();

    m_tiles = new QListView(this);
    m_tiles->setViewMode(QListView::IconMode);
    m_tiles->setResizeMode(QListView::Adjust);
    m_tiles->setMovement(QListView::Static);
    m_tiles->setUniformItemSizes(true);
    m_tiles->setSpacing(4);
    m_tiles->setItemDelegate(new TileDelegate(m_tiles));
    m_tiles->setModel(tiles);
    m_summary = new QLabel(tr("No units yet."), this);
    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #a00000"));

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(m_error);
    layout->addWidget(m_tiles, 1);
    layout->addWidget(m_summary);
}

StationViewRequest StationView::request() const {
    return StationViewRequest{
        m_ports->text().trimmed(),     m_image->text().trimmed(),    m_key->text().trimmed(),
        m_pki->text().trimmed(),       m_provision->isChecked(),     m_operator->text().trimmed(),
        m_stationId->text().trimmed(), m_database->text().trimmed(), m_units->value()};
}

void StationView::setRequest(const StationViewRequest& r) {
    m_ports->setText(r.ports);
    m_image->setText(r.image);
    m_key->setText(r.releaseKey);
    m_pki->setText(r.pki);
    m_provision->setChecked(r.provisionIdentity);
    m_operator->setText(r.operatorName);
    m_stationId->setText(r.stationId);
    m_database->setText(r.database);
    m_units->setValue(r.units);
}

void StationView::setRunning(bool running) {
    for (QWidget* widget : std::as_const(m_settings)) {
        widget->setEnabled(!running);
    }
    m_start->setEnabled(!running);
    m_stop->setEnabled(running);
}

void StationView::setSummary(const QString& text) {
    m_summary->setText(text);
}

void StationView::showError(const QString& text) {
    m_error->setText(text);
}

}  // namespace otafleet::ui
