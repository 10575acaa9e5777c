// vdi-thin-client: sign in at a terminal and use a desktop (docs/thin-client.md).
#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>
#include <iostream>

#include "vdi/thin_client/app/thin_client_app.h"
#include "vdi/thin_client/screens/theme.h"

using namespace vdi::thin_client;

int main(int argc, char** argv)
{
    QApplication application(argc, argv);
    QApplication::setApplicationName(QStringLiteral("vdi-thin-client"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Sign in and use your virtual desktop."));
    parser.addHelpOption();
    add_client_config_options(parser);
    parser.process(application);

    ClientConfig config;
    std::unique_ptr<BrokerClient> broker;
    try {
        config = load_client_config(ClientConfigPaths::standard(), &parser);
        broker = std::make_unique<BrokerClient>(config.endpoint(), config.trust);
    } catch (const ClientConfigError& e) {
        // a terminal may have no one reading stderr: say it on the screen too
        std::cerr << e.what() << "\n";
        QMessageBox::critical(nullptr, QStringLiteral("Virtual desktop"),
                              QStringLiteral("This terminal is not set up correctly:\n\n%1\n\nAsk your administrator.")
                                  .arg(QString::fromUtf8(e.what())));
        return 2;
    }
    screens::apply_theme(application);
    app::ThinClientApp thin_client(config, std::move(broker));
    QObject::connect(&thin_client, &app::ThinClientApp::quitRequested, &application, &QApplication::quit);
    thin_client.present();
    return application.exec();
}
