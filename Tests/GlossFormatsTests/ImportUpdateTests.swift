import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// A re-import as an update (``ImportUpdate``): identity, changed fields, deletes and what is
/// never deleted.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ImportUpdateTests {
    static let doc: DocumentID = "news/1"
    static let text = "Alice met Bob in Zürich on Monday."

    /// What alice holds: two spans, a relation between them, a note on one and bob's span.
    struct Corpus {
        var state: DocumentState
        var alice: Annotation
        var bob: Annotation
        var zurich: Annotation
        var met: Annotation
        var note: Annotation
        var bobsSpan: Annotation
    }

    static func corpus(metadata: [String: String] = [:]) throws -> Corpus {
        var m = Minter("alice", replica: 5)
        let alice = m.span(doc, 0, 5, "PER")
        let bob = m.span(doc, 10, 13, "PER")
        let zurich = m.span(doc, 17, 23, "LOC", attributes: ["country": "CH"])
        let met = m.relation(doc, alice.id, bob.id, "meets")
        let note = Annotation(
            id: m.nextID(), document: doc, kind: .note, layer: "alice", owner: "alice", target: bob.id, text: "who?")
        var b = Minter("bob", replica: 6)
        let bobsSpan = b.span(doc, 27, 33, "DATE")
        var state = DocumentState()
        try state.apply(.addDocument(Document(id: doc, text: text, metadata: metadata)))
        for a in [alice, bob, zurich, met, note, bobsSpan] { try state.apply(.create(a)) }
        return Corpus(state: state, alice: alice, bob: bob, zurich: zurich, met: met, note: note, bobsSpan: bobsSpan)
    }

    /// `annotations` as a file would give them back: fresh ids (references rewritten), the importer as owner.
    static func reimported(_ annotations: [Annotation], claims: Bool = false) -> ImportedDocument {
        var m = Minter("alice", replica: 9)
        var fresh: [AnnotationID: AnnotationID] = [:]
        for a in annotations { fresh[a.id] = m.nextID() }
        let copies = annotations.map { a in
            var c = a
            c.id = fresh[a.id]!
            c.from = a.from.map { fresh[$0] ?? $0 }
            c.to = a.to.map { fresh[$0] ?? $0 }
            c.target = a.target.map { fresh[$0] ?? $0 }
            return c
        }
        let claimed = claims ? Dictionary(uniqueKeysWithValues: annotations.map { (fresh[$0.id]!, $0.id) }) : [:]
        return ImportedDocument(id: doc, text: text, annotations: copies, source: "one.json", claimedIDs: claimed)
    }

    static func context(_ coverage: ImportCoverage = .w3c, curator: Bool = false, deletes: Bool = true)
        -> ImportUpdate.Context
    {
        ImportUpdate.Context(
            user: "alice", defaultLayer: "alice", coverage: coverage, mayWriteOtherLayers: curator, deletesMissing: deletes)
    }

    /// The state after the update's ops.
    static func applied(_ update: ImportUpdate, to state: DocumentState) throws -> DocumentState {
        var s = state
        for op in update.ops { try s.apply(op) }
        return s
    }

    @Test func theSameAnnotationsAgainChangeNothing() throws {
        let c = try Self.corpus()
        let mine = [c.alice, c.bob, c.zurich, c.met, c.note]
        let update = ImportUpdate.plan(Self.reimported(mine), onto: c.state, context: Self.context())
        #expect(update.ops.isEmpty)
        #expect(update.tally == ImportTally(unchanged: 5))
    }

    @Test func aClaimedIDKeepsIdentityThroughALabelChange() throws {
        let c = try Self.corpus()
        var changed = [c.alice, c.bob, c.zurich, c.met, c.note]
        changed[2].label = "GPE"
        let update = ImportUpdate.plan(Self.reimported(changed, claims: true), onto: c.state, context: Self.context())
        #expect(update.ops == [.set(Self.doc, c.zurich.id, .label, .string("GPE"))])
        #expect(update.tally == ImportTally(changed: 1, unchanged: 4))
    }

    @Test func withoutAClaimALabelChangeIsADeleteAndACreate() throws {
        let c = try Self.corpus()
        var changed = [c.alice, c.bob, c.zurich]
        changed[2].label = "GPE"
        let update = ImportUpdate.plan(Self.reimported(changed), onto: c.state, context: Self.context(.doccano))
        // The relation is in the file's kinds (doccano holds relations) and missing: deleted too.
        #expect(update.tally == ImportTally(created: 1, deleted: 2, unchanged: 2))
        let after = try Self.applied(update, to: c.state)
        #expect(after.annotations[c.zurich.id] == nil)
        #expect(after.annotations.values.contains { $0.label == "GPE" && $0.ranges == c.zurich.ranges })
        // doccano holds no notes: the note stays, and so does what it points at.
        #expect(after.annotations[c.note.id] != nil)
        #expect(after.annotations[c.bob.id] != nil)
    }

    @Test func aRelationMatchesThroughItsMatchedArguments() throws {
        let c = try Self.corpus()
        let update = ImportUpdate.plan(
            Self.reimported([c.alice, c.bob, c.zurich, c.met, c.note]), onto: c.state, context: Self.context(.brat))
        #expect(update.tally.unchanged == 5)
        // A relation between other spans is another relation.
        var moved = c.met
        moved.to = c.zurich.id
        let other = ImportUpdate.plan(
            Self.reimported([c.alice, c.bob, c.zurich, moved, c.note]), onto: c.state, context: Self.context(.brat))
        #expect(other.tally == ImportTally(created: 1, deleted: 1, unchanged: 4))
    }

    @Test func deletesOnlyInLayersTheUserMayWrite() throws {
        let c = try Self.corpus()
        // The file names bob's layer (a curator's export of both) but no longer holds bob's span.
        let bobLabel = Annotation(
            id: AnnotationID(replica: ReplicaID(77), counter: 1), document: Self.doc, kind: .documentLabel, layer: "bob",
            owner: "alice", label: "news")
        var file = Self.reimported([c.alice, c.bob, c.zurich, c.met, c.note])
        file.annotations.append(bobLabel)
        let annotator = ImportUpdate.plan(file, onto: c.state, context: Self.context())
        #expect(annotator.tally == ImportTally(created: 1, unchanged: 5, kept: 1))
        #expect(annotator.protectedLayers == ["bob"])
        #expect(!annotator.ops.contains(.delete(Self.doc, c.bobsSpan.id)))

        let curator = ImportUpdate.plan(file, onto: c.state, context: Self.context(curator: true))
        #expect(curator.tally == ImportTally(created: 1, deleted: 1, unchanged: 5))
        #expect(curator.ops.contains(.delete(Self.doc, c.bobsSpan.id)))

        // A layer the file does not name is not covered: bob's span stays even for a curator.
        let aliceOnly = ImportUpdate.plan(
            Self.reimported([c.alice, c.bob, c.zurich, c.met, c.note]), onto: c.state, context: Self.context(curator: true))
        #expect(aliceOnly.ops.isEmpty)
        #expect(aliceOnly.tally.kept == 0)
    }

    @Test func aFileWithProblemsDeletesNothing() throws {
        let c = try Self.corpus()
        let update = ImportUpdate.plan(Self.reimported([c.alice]), onto: c.state, context: Self.context(deletes: false))
        #expect(update.ops.isEmpty)
        #expect(update.tally == ImportTally(unchanged: 1, kept: 4))
    }

    @Test func whatStaysKeepsWhatItPointsAt() throws {
        let c = try Self.corpus()
        // CoNLL holds spans only: bob's span is missing but the relation and note (not covered) point at it.
        let update = ImportUpdate.plan(
            Self.reimported([c.alice, c.zurich]), onto: c.state, context: Self.context(.conll))
        #expect(update.tally == ImportTally(unchanged: 2, kept: 1))
        #expect(update.ops.isEmpty)
    }

    @Test func attributesAreReplacedOnlyWhereTheFormatHoldsThem() throws {
        let c = try Self.corpus()
        var bare = c.zurich
        bare.attributes = [:]
        let w3c = ImportUpdate.plan(Self.reimported([bare], claims: true), onto: c.state, context: Self.context(.w3c))
        #expect(w3c.ops.contains(.set(Self.doc, c.zurich.id, .attribute("country"), .none)))
        let doccano = ImportUpdate.plan(Self.reimported([bare]), onto: c.state, context: Self.context(.doccano))
        #expect(!doccano.ops.contains { $0.annotation == c.zurich.id })
        #expect(doccano.tally.unchanged == 1)
    }

    @Test func aClaimOfAnotherLayerOrKindIsNotAnIdentity() throws {
        let c = try Self.corpus()
        var relabelled = c.alice
        relabelled.layer = "carol"
        let update = ImportUpdate.plan(
            Self.reimported([relabelled], claims: true), onto: c.state,
            context: ImportUpdate.Context(
                user: "alice", defaultLayer: "carol", coverage: .brat, mayWriteOtherLayers: true))
        #expect(update.tally.created == 1)
        #expect(!update.ops.contains { $0.annotation == c.alice.id })
    }

    @Test func bratRecordsNameTheIdentity() throws {
        let ids = try Self.corpusIDs()
        let c = try Self.corpus(metadata: [BratCollection.MetadataKey.ids: "T1\t\(ids.alice)\nT3\t\(ids.zurich)"])
        var changed = c.zurich
        changed.label = "GPE"
        var file = Self.reimported([c.alice, changed])
        let minted = file.annotations.map(\.id)
        file.metadata[BratCollection.MetadataKey.ids] = "T1\t\(minted[0])\nT3\t\(minted[1])"
        let update = ImportUpdate.plan(file, onto: c.state, context: Self.context(.brat))
        #expect(update.ops.contains(.set(Self.doc, c.zurich.id, .label, .string("GPE"))))
        #expect(update.tally.changed == 1)
        #expect(update.tally.created == 0)
    }

    /// The ids ``corpus(metadata:)`` mints, for a record written before the corpus.
    static func corpusIDs() throws -> (alice: AnnotationID, zurich: AnnotationID) {
        let c = try corpus()
        return (c.alice.id, c.zurich.id)
    }
}

/// The ids Gloss writes into W3C and Label Studio files come back as claims, so a re-import of
/// its own export is an update in every format that can carry them.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ImportClaimTests {
    @Test func labelStudioAndW3CExportsCarryGlossIDsBack() throws {
        let c = try ImportUpdateTests.corpus()
        let state = c.state
        let export = ExportDocument(
            id: ImportUpdateTests.doc, text: ImportUpdateTests.text,
            annotations: state.sortedAnnotations.filter { $0.layer == "alice" })
        var minter = Minter("alice", replica: 9)
        let options = ImportOptions(owner: "alice", layer: "alice")

        let ls = LabelStudioExporter().export([export])
        let fromLS = try LabelStudioImporter(options: options).importFile(
            ls.files[0].contents, file: ls.files[0].path, mintID: { minter.nextID() })
        let lsDoc = try #require(fromLS.documents.first)
        let lsSpans = lsDoc.annotations.filter { $0.kind == .span }
        #expect(!lsSpans.isEmpty)
        #expect(lsSpans.allSatisfy { state.annotations[lsDoc.claimedIDs[$0.id]!]?.ranges == $0.ranges })

        let w3c = W3CAnnotationExporter().export([export])
        let fromW3C = try W3CAnnotationImporter(options: options).importFile(
            w3c.files[0].contents, file: w3c.files[0].path,
            texts: [ImportUpdateTests.doc.rawValue: ImportUpdateTests.text], mintID: { minter.nextID() })
        let w3cDoc = try #require(fromW3C.documents.first)
        // Every annotation of alice's layer comes back claiming its own id, notes and relations included.
        let claimed = Set(w3cDoc.annotations.compactMap { w3cDoc.claimedIDs[$0.id] })
        #expect(claimed == Set(state.annotations.values.filter { $0.layer == "alice" }.map(\.id)))
        let update = ImportUpdate.plan(w3cDoc, onto: state, context: ImportUpdateTests.context())
        #expect(update.ops.isEmpty)
        #expect(update.tally.unchanged == 5)
    }
}
