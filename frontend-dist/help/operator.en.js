// Help for hotline operators (English, shorter than the Chinese).
export default {
  title: 'Help for hotline operators',
  intro: 'Take calls and file cases on "Intake"; call back missed callers and do follow-ups on "Callbacks".',
  sections: [
    { title: 'Intake', screen: 'intake', shot: 'operator-intake.png', alt: 'The intake page: caller on the left, the case form on the right',
      paras: ['A ringing call shows the number and its earlier cases. A second call waits in "waiting calls" and never replaces the form you are filling in.',
        'Fill in channel, category, place (search by village, township or county), the danger screen and the summary. Under the place you see where the case will go. Ctrl+Enter submits.'] },
    { title: 'Callbacks', screen: 'callbacks', shot: 'operator-callbacks.png', alt: 'The callback queue, missed calls first',
      paras: ['Missed calls first, then follow-ups, by due time. Check her safe contact before dialling.'] },
    { title: 'Cases', screen: 'cases', shot: 'operator-cases.png', alt: 'The case list with search and filters',
      paras: ['Search and filter; open a case for its timeline and deadlines.'] },
  ],
  missed: { title: 'A deadline was missed', paras: ['Manual dispatch overdue: open the case and transfer it to a unit. An unacknowledged police alert climbs by itself; in an emergency phone 110 and record it.'] },
};
