import ArgumentParser
import Foundation
import GlossServer

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check and explain glossd's configuration.",
        subcommands: [Check.self, Show.self, Keys.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file: unknown keys and bad values are named with their line.",
            discussion: "Exit status 0 when the file is valid, 1 otherwise. Example: glossd config check /etc/glossd/glossd.yaml")
        @Argument(help: "The YAML file.") var file: String

        func run() throws {
            do {
                let count = try GlossdSettings.check(file: file)
                print("\(file): ok (\(count) setting(s))")
            } catch let error as SettingsError {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the settings `glossd serve` would use, and where each comes from.",
            discussion: "Flags override GLOSSD_* environment variables, which override the file, which overrides defaults.")
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
            abstract: "List every setting: key, environment variable, default, meaning (Markdown).")

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
