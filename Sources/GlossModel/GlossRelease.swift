/// This release of Gloss: what `gloss --version` and `glossd --version` print, and what a client
/// names itself in its HELLO.
public enum GlossRelease {
    public static let version = "0.2.0"
}
