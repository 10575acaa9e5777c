// The product mark, the terminal's name and the screen's heading, stacked.
#include "vdi/thin_client/screens/brand_header.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "vdi/thin_client/screens/theme.h"

namespace vdi::thin_client::screens {

BrandHeader::BrandHeader(QWidget* parent)
    : QWidget(parent), terminal_(new QLabel(this)), heading_(new QLabel(this)) {
    auto* mark = new QLabel(QStringLiteral("VDI"), this);
    mark->setObjectName(QStringLiteral("brandMark"));
    auto* product = new QLabel(tr("Virtual Desktop"), this);
    product->setObjectName(QStringLiteral("brandProduct"));
    terminal_->setObjectName(QStringLiteral("brandTerminal"));
    heading_->setObjectName(QStringLiteral("heading"));
    heading_->setWordWrap(true);
    terminal_->hide();
    heading_->hide();

    auto* top = new QHBoxLayout;
    top->setSpacing(12);
    top->addWidget(mark);
    auto* names = new QVBoxLayout;
    names->setSpacing(0);
    names->addWidget(product);
    names->addWidget(terminal_);
    top->addLayout(names);
    top->addStretch();

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(20);
    layout->addLayout(top);
    layout->addWidget(heading_);
}

void BrandHeader::setTerminalName(const QString& name) {
    terminal_->setText(tr("Terminal %1").arg(name));
    terminal_->setVisible(!name.isEmpty());
}

void BrandHeader::setHeading(const QString& heading) {
    heading_->setText(heading);
    heading_->setVisible(!heading.isEmpty());
}

}  // namespace vdi::thin_client::screens
