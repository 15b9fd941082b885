import ArgumentParser
import Foundation
import GlossServer

/// `glossd config`: validates and explains the settings `glossd serve` would use.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check and explain glossd's configuration.",
        discussion: """
            glossd takes its settings from flags, then GLOSSD_* environment variables, then a YAML \
            file given with --config or GLOSSD_CONFIG, then defaults. These commands validate a \
            file, show what `glossd serve` would use and where each value comes from, and list \
            every setting.

            Examples:
              glossd config check /etc/glossd/glossd.yaml
              glossd config show --config /etc/glossd/glossd.yaml
              glossd config keys
            """,
        subcommands: [Check.self, Show.self, Keys.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file: unknown keys and bad values are named with their line.",
            discussion: """
                Reads the file as `glossd serve --config FILE` would, without starting anything. \
                Exit status: 0 when the file is valid, 1 otherwise.

                Examples:
                  glossd config check /etc/glossd/glossd.yaml
                """)
        @Argument(help: "The YAML file.") var file: String

        func run() throws {
            do {
                let count = try GlossdSettings.check(file: file)
                print("\(file): ok (\(count) setting(s))")
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the settings `glossd serve` would use, and where each comes from.",
            discussion: """
                Flags override GLOSSD_* environment variables, which override the file, which \
                overrides defaults. Each line is KEY = VALUE, then # and where the value comes \
                from: an environment variable, FILE:LINE, or default.

                Examples:
                  glossd config show --config /etc/glossd/glossd.yaml
                  GLOSSD_LISTEN=0.0.0.0:7743 glossd config show --data /var/lib/glossd
                """)
        @OptionGroup var data: DataOptions

        func run() throws {
            let settings: GlossdSettings
            do {
                settings = try data.settings()
            } catch let error as SettingsError {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
            for key in SettingKey.all {
                let entry = settings.entries[key.key]
                print("\(key.key) = \(entry?.value ?? "(not set)")\t# \(entry?.source ?? "-")")
            }
        }
    }

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every setting: key, environment variable, default, meaning (Markdown).",
            discussion: """
                Prints a Markdown table of every setting: its key in the configuration file (and \
                flag, for those `glossd serve` takes), its environment variable, its default and \
                what it means.

                Examples:
                  glossd config keys
                """)

        func run() {
            print("| key | environment | default | meaning |")
            print("| --- | --- | --- | --- |")
            for key in SettingKey.all {
                let flag = GlossdSettings.flagNames[key.key].map { " (`--\($0)`)" } ?? ""
                print("| `\(key.key)`\(flag) | `\(key.environmentVariable)` | \(key.defaultValue.map { "`\($0)`" } ?? "—") | \(key.help) |")
            }
        }
    }
}
