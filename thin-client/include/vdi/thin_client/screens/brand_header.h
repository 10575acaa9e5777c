// The top of each card: the "VDI" product mark and the terminal's name. GUI thread only.
#pragma once

#include <QWidget>

class QLabel;

namespace vdi::thin_client::screens {

class BrandHeader : public QWidget {
    Q_OBJECT
public:
    explicit BrandHeader(QWidget* parent = nullptr);

    // "Terminal <name>" under the mark; an empty name hides the line.
    void setTerminalName(const QString& name);
    void setHeading(const QString& heading);  // e.g. "Sign in", "Choose a desktop"

private:
    QLabel* terminal_;
    QLabel* heading_;
};

}  // namespace vdi::thin_client::screens
