#include "ui/ConnectDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QSettings>
#include <QVBoxLayout>

#include <algorithm>

namespace otafleet::ui {
namespace {

const QString kRecentKey = QStringLiteral("connections/recent");

// HOST:PORT, with an IPv6 host in brackets.
bool plausibleAddress(const QString& address) {
    static const QRegularExpression re(
        QStringLiteral(R"(^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$)"));
    const auto m = re.match(address);
    if (!m.hasMatch())
        return false;
    const int port = m.captured(2).toInt();
    return port > 0 && port < 65536;
}

QWidget* withBrowse(QLineEdit* edit, QWidget* parent, bool folder) {
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit);
    auto* browse = new QPushButton(QObject::tr("Browse…"), row);
    layout->addWidget(browse);
    QObject::connect(browse, &QPushButton::clicked, edit, [edit, folder] {
        const QString picked =
            folder
                ? QFileDialog::getExistingDirectory(edit, QObject::tr("PKI folder"), edit->text())
                : QFileDialog::getOpenFileName(edit, QObject::tr("Fleet root CA"), edit->text(),
                                               QObject::tr("PEM certificates (*.pem)"));
        if (!picked.isEmpty())
            edit->setText(QDir::toNativeSeparators(picked));
    });
    return row;
}

}  // namespace

QString ServerChoice::label() const {
    return pkiDir.isEmpty()
               ? QObject::tr("%1 as %2").arg(address, user)
               : QObject::tr("%1 with PKI %2").arg(address, QDir::toNativeSeparators(pkiDir));
}

ConnectDialog::ConnectDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Connect to otafleetd"));
    setWindowModality(Qt::WindowModal);
    m_recent = new QComboBox;
    m_recent->setObjectName(QStringLiteral("recent"));
    m_recentChoices = recent();
    m_recent->addItem(tr("New connection"));
    for (const ServerChoice& c : m_recentChoices)
        m_recent->addItem(c.label());
    m_address = new QLineEdit;
    m_address->setObjectName(QStringLiteral("address"));
    m_address->setPlaceholderText(tr("fleet.example.com:7443"));
    m_pkiMode = new QRadioButton(tr("Operator certificate (PKI folder)"));
    m_passwordMode = new QRadioButton(tr("User name and password"));
    m_pkiMode->setChecked(true);
    m_pki = new QLineEdit;
    m_pki->setObjectName(QStringLiteral("pki"));
    m_ca = new QLineEdit;
    m_ca->setObjectName(QStringLiteral("ca"));
    m_ca->setPlaceholderText(tr("root-ca.pem of the fleet"));
    m_user = new QLineEdit;
    m_user->setObjectName(QStringLiteral("user"));
    m_password = new QLineEdit;
    m_password->setObjectName(QStringLiteral("password"));
    m_password->setEchoMode(QLineEdit::Password);
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("color: palette(highlight);"));
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));

    auto* form = new QFormLayout;
    form->addRow(tr("&Recent:"), m_recent);
    form->addRow(tr("&Server:"), m_address);
    form->addRow(tr("Sign in with:"), m_pkiMode);
    form->addRow(QString(), m_passwordMode);
    form->addRow(tr("&PKI folder:"), withBrowse(m_pki, this, true));
    form->addRow(tr("Fleet &CA:"), withBrowse(m_ca, this, false));
    form->addRow(tr("&User:"), m_user);
    form->addRow(tr("Pass&word:"), m_password);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_message);
    layout->addWidget(m_buttons);

    connect(m_buttons, &QDialogButtonBox::accepted, this, &ConnectDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &ConnectDialog::reject);
    connect(m_pkiMode, &QRadioButton::toggled, this, &ConnectDialog::updateMode);
    connect(m_recent, &QComboBox::currentIndexChanged, this, &ConnectDialog::pickRecent);
    if (!m_recentChoices.isEmpty())
        m_recent->setCurrentIndex(1);
    updateMode();
    resize(520, sizeHint().height());
}

ConnectDialog::~ConnectDialog() {
    std::fill(m_choice.password.begin(), m_choice.password.end(), '\0');
}

QString ConnectDialog::messageText() const {
    return m_message->text();
}

void ConnectDialog::setAddress(const QString& address) {
    m_address->setText(address);
}

void ConnectDialog::usePki(const QString& pkiDir) {
    m_pkiMode->setChecked(true);
    m_pki->setText(pkiDir);
}

void ConnectDialog::usePassword(const QString& caFile, const QString& user,
                                const QString& password) {
    m_passwordMode->setChecked(true);
    m_ca->setText(caFile);
    m_user->setText(user);
    m_password->setText(password);
}

void ConnectDialog::pickRecent(int index) {
    if (index < 1 || index > m_recentChoices.size())
        return;
    const ServerChoice& c = m_recentChoices.at(index - 1);
    setAddress(c.address);
    if (c.pkiDir.isEmpty()) {
        usePassword(c.caFile, c.user, QString());
        m_password->setFocus();
    } else {
        usePki(c.pkiDir);
    }
}

void ConnectDialog::updateMode() {
    const bool pki = m_pkiMode->isChecked();
    m_pki->parentWidget()->setEnabled(pki);
    m_ca->parentWidget()->setEnabled(!pki);
    m_user->setEnabled(!pki);
    m_password->setEnabled(!pki);
}

void ConnectDialog::showMessage(const QString& text) {
    m_message->setText(text);
}

void ConnectDialog::accept() {
    ServerChoice c;
    c.address = m_address->text().trimmed();
    if (!plausibleAddress(c.address)) {
        showMessage(
            tr("Give the server as HOST:PORT, e.g. fleet.example.com:7443 or "
               "[fd00::2]:7443."));
        m_address->setFocus();
        return;
    }
    if (m_pkiMode->isChecked()) {
        c.pkiDir = QDir::fromNativeSeparators(m_pki->text().trimmed());
        const QDir pki(c.pkiDir);
        for (const char* file : {"root-ca.pem", "operator.pem", "operator.key"}) {
            if (c.pkiDir.isEmpty() || !QFileInfo::exists(pki.filePath(QLatin1String(file)))) {
                showMessage(
                    tr("The PKI folder must hold root-ca.pem, operator.pem and "
                       "operator.key (made by otafleetctl pki init)."));
                m_pki->setFocus();
                return;
            }
        }
    } else {
        c.caFile = QDir::fromNativeSeparators(m_ca->text().trimmed());
        c.user = m_user->text().trimmed();
        if (!QFileInfo(c.caFile).isFile()) {
            showMessage(
                tr("Choose the fleet's root CA certificate (root-ca.pem), which the "
                   "server's certificate must chain to."));
            m_ca->setFocus();
            return;
        }
        if (c.user.isEmpty() || m_password->text().isEmpty()) {
            showMessage(tr("Give the user name and the password an admin set for it."));
            (c.user.isEmpty() ? m_user : m_password)->setFocus();
            return;
        }
        c.password = m_password->text().toUtf8();
        m_password->clear();
    }
    m_choice = c;
    remember(c);
    QDialog::accept();
}

QList<ServerChoice> ConnectDialog::recent() {
    QSettings settings;
    QList<ServerChoice> out;
    const QVariantList list = settings.value(kRecentKey).toList();
    for (const QVariant& v : list) {
        const QVariantMap m = v.toMap();
        ServerChoice c;
        c.address = m.value(QStringLiteral("address")).toString();
        c.pkiDir = m.value(QStringLiteral("pki")).toString();
        c.caFile = m.value(QStringLiteral("ca")).toString();
        c.user = m.value(QStringLiteral("user")).toString();
        if (!c.address.isEmpty() && out.size() < kMaxRecent)
            out.append(c);
    }
    return out;
}

void ConnectDialog::remember(const ServerChoice& choice) {
    QVariantList list{QVariantMap{{QStringLiteral("address"), choice.address},
                                  {QStringLiteral("pki"), choice.pkiDir},
                                  {QStringLiteral("ca"), choice.caFile},
                                  {QStringLiteral("user"), choice.user}}};
    for (const ServerChoice& c : recent()) {
        const bool same = c.address == choice.address && c.pkiDir == choice.pkiDir &&
                          c.caFile == choice.caFile && c.user == choice.user;
        if (!same && list.size() < kMaxRecent) {
            list.append(QVariantMap{{QStringLiteral("address"), c.address},
                                    {QStringLiteral("pki"), c.pkiDir},
                                    {QStringLiteral("ca"), c.caFile},
                                    {QStringLiteral("user"), c.user}});
        }
    }
    QSettings().setValue(kRecentKey, list);
}

}  // namespace otafleet::ui
