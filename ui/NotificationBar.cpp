#include "ui/NotificationBar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace otafleet::ui {

NotificationBar::NotificationBar(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("notificationBar"));
    setFrameShape(QFrame::StyledPanel);
    // Amber, with its own text colour, reads in light and dark palettes alike.
    setStyleSheet(
        QStringLiteral("#notificationBar { background: #fff3cd; border: 1px solid "
                       "#e0b84c; border-radius: 3px; } #notificationBar QLabel { "
                       "color: #4a3500; }"));
    m_text = new QLabel;
    m_text->setObjectName(QStringLiteral("notificationText"));
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    m_show = new QPushButton(tr("Show"));
    m_show->setObjectName(QStringLiteral("notificationShow"));
    m_dismiss = new QPushButton(tr("Dismiss"));
    m_dismiss->setObjectName(QStringLiteral("notificationDismiss"));
    m_dismiss->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    m_dismiss->setToolTip(
        tr("Dismiss (Ctrl+Shift+D); past notifications stay in the "
           "Notifications tab."));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 6, 6, 6);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_show);
    layout->addWidget(m_dismiss);
    connect(m_show, &QPushButton::clicked, this, [this] {
        Q_EMIT showRequested(m_current.subject, m_current.kind);
        dismiss();
    });
    connect(m_dismiss, &QPushButton::clicked, this, &NotificationBar::dismiss);
    setVisible(false);
}

void NotificationBar::present(const fleet::Notification& n) {
    const bool more = isVisible();
    m_unseen = more ? m_unseen + 1 : 0;
    m_current = n;
    QString html =
        QStringLiteral("<b>%1:</b> %2").arg(n.title.toHtmlEscaped(), n.text.toHtmlEscaped());
    if (m_unseen > 0)
        html += tr(" <i>(and %n earlier, in the Notifications tab)</i>", nullptr, m_unseen);
    m_text->setText(html);
    setVisible(true);
}

QString NotificationBar::text() const {
    return isVisible() ? m_text->text() : QString();
}

void NotificationBar::dismiss() {
    m_unseen = 0;
    setVisible(false);
}

}  // namespace otafleet::ui
