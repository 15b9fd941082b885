import GlossWire

/// What a request asks for, as the `type` label of `glossd_requests_total` and the `type`
/// field of request logs. Snake case, like Prometheus label values usually are.
public enum RequestKind: String, Sendable, CaseIterable {
    case auth
    case listCorpora = "list_corpora"
    case listDocuments = "list_documents"
    case clone
    case pull
    case push
    case subscribe
    case createCorpus = "create_corpus"
    case grant
    /// A PING frame: not a request on the wire, but counted with them.
    case ping
    /// A request whose body this server does not know (answered `bad-message`).
    case unknown

    public init(_ request: Gloss_V1_Request) {
        switch request.body {
        case .auth: self = .auth
        case .listCorpora: self = .listCorpora
        case .listDocuments: self = .listDocuments
        case .clone: self = .clone
        case .pull: self = .pull
        case .push: self = .push
        case .subscribe: self = .subscribe
        case .createCorpus: self = .createCorpus
        case .grant: self = .grant
        case nil: self = .unknown
        }
    }

    /// The corpus a request is about, if any: for the `corpus` log field and the store gauges.
    static func corpus(of request: Gloss_V1_Request) -> String? {
        switch request.body {
        case .listDocuments(let r): r.corpus
        case .clone(let r): r.corpus
        case .pull(let r): r.corpus
        case .push(let r): r.corpus
        case .subscribe(let r): r.corpus
        case .createCorpus(let r): r.name
        case .grant(let r): r.corpus
        case .auth, .listCorpora, nil: nil
        }
    }

    /// The `outcome` of a request answered by `final`: `ok`, the error code of an ERROR, or
    /// for a push that was answered but not accepted, `duplicate`, `conflicts` or `invalid`
    /// (a push refused for conflicts is a normal part of syncing, yet worth telling apart).
    static func outcome(of final: WireMessage) -> String {
        switch final {
        case .error(_, let error):
            return error.code.isEmpty ? WireError.Code.internal.rawValue : error.code
        case .response(_, let response):
            guard case .push(let push)? = response.body else { return "ok" }
            switch push.outcome {
            case .acceptedRevision, nil: return "ok"
            case .duplicateRevision: return "duplicate"
            case .conflicts: return "conflicts"
            case .invalid: return "invalid"
            }
        default:
            return "ok"
        }
    }
}
