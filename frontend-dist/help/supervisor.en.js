// Help for supervisors (English, shorter).
export default {
  title: 'Help for supervisors',
  intro: '"Supervision" shows overdue cases, alerts and figures for your region, live. Urge or reassign from a case page.',
  sections: [
    { title: 'Supervision', screen: 'supervise', shot: 'supervisor-supervise.png', alt: 'The supervision page',
      paras: ['Figures refresh live; a deadline met counts at once. Open an overdue case to urge the unit (mailed) or reassign it. Export the cases in Chinese (CSV).'] },
    { title: 'Cases', screen: 'cases', shot: 'supervisor-cases.png', alt: 'The region\'s cases with filters',
      paras: ['Only your region\'s cases; filter by risk, place, date, overdue, status and unit.'] },
    { title: 'Ledger figures', screen: 'ledger/report', shot: 'supervisor-ledger-report.png', alt: 'Ledger figures by area',
      paras: ['"Ledger figures" counts the ledger of left-behind women in your region by the areas one level down: persons, left behind (today), each flag, reviews due. Choose a place and dates, then "Search"; an area\'s name opens the level below. Supervisors read the ledger but do not change it.'] },
  ],
  missed: { title: 'A deadline was missed', paras: ['Read the timeline first; then urge with a reply date, or reassign to a unit that can act.'] },
};
