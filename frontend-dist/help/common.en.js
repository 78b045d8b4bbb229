// Help, shared by every role (English, shorter than the Chinese).
export default {
  colours: {
    title: 'Colours and countdowns',
    intro: 'Every colour comes with its words; read the words.',
    countdowns: [
      ['cd-ok', '3d 2h left · on time', 'Plenty of time.'],
      ['cd-warn', '04:12 left · due soon', 'Under 5 minutes or a quarter of the window left: do it first.'],
      ['cd-urgent', '04:50 left · urgent', 'An imminent-danger alert is red from the start: act now.'],
      ['cd-overdue', 'Overdue 12:05', 'The deadline has passed by this much. See "A deadline was missed".'],
      ['cd-done', 'Done · 03/12/2026 09:15', 'This step was done in time.'],
    ],
    risks: [
      ['risk-none', 'No apparent risk', 'The danger screen found no risk.'],
      ['risk-elevated', 'Elevated', 'Risk factors: watch and keep the deadlines.'],
      ['risk-high', 'High', 'The police were alerted too and must acknowledge in time.'],
      ['risk-imminent', 'Imminent', 'Violence now or any moment: police acknowledge within 5 minutes or it climbs a level.'],
    ],
    rows: 'A row with a dark blue bar and a yellow background has just arrived; a red bar means overdue. "(2)" before the tab title: two urgent alerts wait for acknowledgement (the sound repeats every 30 s).',
  },
  offline: {
    title: 'The connection dropped',
    paras: [
      'A yellow bar at the top says the connection is lost and counts the retries; "Reconnect now" tries at once.',
      'What you typed stays in this browser. Once back, everything that happened meanwhile is caught up.',
      'A form sent while offline is not saved: a red message says so next to the button and the draft stays. Send again when connected.',
      'In an emergency, do not wait for the system: phone 110 or the hotline centre, and record it afterwards.',
    ],
  },
  other: 'Help for other roles',
};
