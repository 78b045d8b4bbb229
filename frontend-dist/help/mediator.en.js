// Help for people's mediators (English, shorter).
export default {
  title: 'Help for mediators',
  intro: 'Family, neighbour, land and property disputes come to the mediation committee. Accept in the queue; record the mediation on the case page.',
  sections: [
    { title: 'Unit queue', screen: 'queue', shot: 'mediator-queue.png', alt: 'The mediation committee\'s queue',
      paras: ['Accept new cases within their countdown. Cases with domestic violence or high risk are refused for mediation unless you give and confirm a reason (audited).'] },
    { title: 'Case page and mediation', screen: 'case', shot: 'mediator-case.png', alt: 'A case page with the mediation part',
      paras: ['Hold the first session in time; record each session, the agreement and its obligations, or why it ended. Danger during mediation: "Alert the police" at once.'] },
  ],
  missed: { title: 'A deadline was missed', paras: ['Fix a first session now or record why mediation ended; follow up on obligations when reminded.'] },
};
