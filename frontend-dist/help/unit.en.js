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
  ],
  missed: { title: 'A deadline was missed', paras: ['Accept or decline at once; from the second reminder the supervisors are told. If you cannot finish in time, ask for an extension before the deadline.'] },
};
