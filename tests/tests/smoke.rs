use lvyue_ledger::event::Event;
use lvyue_ledger::types::Role;
use lvyue_tests::{TestNode, uscc};

#[test]
fn register_and_audit() {
    let n = TestNode::start();
    assert_eq!(n.size(), 1);
    let firm = n.register("firm-a", Role::MarketEntity, &uscc(1));
    assert_eq!(n.size(), 2);
    let _ = firm;
    let s = n.audit();
    assert_eq!(s.size, 2);
    let (status, body) = n.submit(&n.sign(&n.office, Event::Tick {}));
    assert_eq!(status, 403, "{body}");
}
