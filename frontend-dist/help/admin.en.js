// Help for administrators (English, shorter).
export default {
  title: 'Help for administrators',
  intro: '"Administration" edits units, users and routing rules and shows the deadlines, the mail outbox and the jobs. Every change is audited.',
  sections: [
    { title: 'Administration', screen: 'admin', shot: 'admin-admin.png', alt: 'The administration page',
      paras: ['Units: name, kind, place, email, duty phone, active. Users: created with a temporary password shown once (changed at first sign-in); reset, unlock, deactivate.',
        'Routing rules with a preview; deadlines read-only; retry failed mail; the jobs\' last runs.'] },
  ],
  missed: { title: 'A deadline was missed', paras: ['Many overdue cases usually mean a routing problem: check active units of the right kind, the rules, unit emails and failed mail.'] },
};
