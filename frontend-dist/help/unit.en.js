// Help for station and department staff (English, shorter).
export default {
  title: 'Help for station and department staff',
  intro: 'Cases sent to your unit arrive in "Unit queue" with a sound. Accept, handle, record the outcome, refer on when needed.',
  sections: [
    { title: 'Unit queue', screen: 'queue', shot: 'unit-queue.png', alt: 'The unit queue, newest first',
      paras: ['Newest first, then by risk, each with its accept countdown. "Accept" starts the work; "Decline" with a reason sends it back to the hotline.'] },
    { title: 'Case page', screen: 'case', shot: 'unit-case.png', alt: 'A case page with deadlines and timeline',
      paras: ['Deadlines on top, the timeline below. Phone and ID numbers are hidden; showing them is audited. Add notes, ask for an extension, refer, record the outcome.'] },
    { title: 'Referrals', screen: 'referrals', shot: 'unit-referrals.png', alt: 'Referrals sent and received',
      paras: ['Accept or decline a referral in time and reply within its window.'] },
    { title: 'Ledger: a person and her details', screen: 'ledger-person', shot: 'unit-ledger-person.png',
      alt: 'The person page\'s "Edit her details": name, phones (shown first), village, husband away since (may be cleared), lives in the village, contact person (may be "None")',
      paras: ['For the units keeping the ledger of left-behind women (stations, civil affairs…). Open a person from the ledger list.',
        'ID number and phones are hidden. "Show full ID number and phones" is audited each time and holds for that one look: a save, a visit, a reload or coming back hides them again.',
        '"Edit her details": name, phones (show them first; up to five), village, husband away since, lives in the village, contact person. Only what changed is sent.',
        'Her husband came back: clear "Husband away since" and save. No contact person: choose "None" and save. Whether she is left behind (husband away six months or more, living in the village) is worked out again for today.'] },
    { title: 'Ledger figures', screen: 'ledger/report', shot: 'unit-ledger-report.png',
      alt: 'Ledger figures: the scope (place, dates for visits) and, by area, persons, left behind, each flag, reviews due',
      paras: ['"Ledger figures" in the top bar counts your region by the areas one level down: persons, left behind (as of today), each flag and reviews due, with a total row.',
        'Choose a place and the dates for counting visits, then "Search"; an area\'s name opens the level below.'] },
  ],
  missed: { title: 'A deadline was missed', paras: ['Accept or decline at once; from the second reminder the supervisors are told. If you cannot finish in time, ask for an extension before the deadline.'] },
};
